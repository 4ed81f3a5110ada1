package gateway

import (
	"context"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/buildinfo"
	"fedgate/gateway/core"
)

// OpsHandler serves what operators and orchestrators read and the public
// must not: Prometheus metrics, liveness, readiness and Go's profiler.
// It is meant for server.ops_listen, an address only the cluster reaches.
func (s *Server) OpsHandler() http.Handler {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(s.requestContext, s.recoverPanics)
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metrics.handler())
	// The profiler's handlers, mounted by hand: net/http/pprof registers
	// them on http.DefaultServeMux, which fedgate never serves.
	r.GET("/debug/pprof/", gin.WrapF(pprof.Index))
	r.GET("/debug/pprof/cmdline", gin.WrapF(pprof.Cmdline))
	r.GET("/debug/pprof/profile", gin.WrapF(pprof.Profile))
	r.GET("/debug/pprof/symbol", gin.WrapF(pprof.Symbol))
	r.POST("/debug/pprof/symbol", gin.WrapF(pprof.Symbol))
	r.GET("/debug/pprof/trace", gin.WrapF(pprof.Trace))
	r.GET("/debug/pprof/:profile", func(c *gin.Context) { pprof.Handler(c.Param("profile")).ServeHTTP(c.Writer, c.Request) })
	r.NoRoute(func(c *gin.Context) { c.String(http.StatusNotFound, "not found\n") })
	return r
}

func (s *Server) healthz(c *gin.Context) { c.String(http.StatusOK, "ok\n") }

// readiness is the /readyz answer: whether this replica can serve, and
// which build it is.
type readiness struct {
	Status string `json:"status"` // ready | not ready
	Reason string `json:"reason,omitempty"`
	// Warning is something an operator must fix that does not stop this
	// replica from serving: a refused mappings file (the live version
	// serves on). Taking every replica out for it would turn a bad edit
	// into an outage.
	Warning string `json:"warning,omitempty"`
	buildinfo.Info
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	c.Header("Cache-Control", "no-store")
	notReady := func(reason string) {
		c.JSON(http.StatusServiceUnavailable, readiness{Status: "not ready", Reason: reason, Info: s.build})
	}
	if err := s.store.Ping(ctx); err != nil {
		core.LogFrom(ctx, s.log).Warn("not ready: store", "error", err)
		notReady("store unavailable")
		return
	}
	if len(s.issuer.JWKS().Keys) == 0 || s.core.Snapshot() == nil {
		notReady("no signing key or configuration loaded")
		return
	}
	r := readiness{Status: "ready", Info: s.build}
	if s.core.MappingsFileRefused() {
		r.Warning = "the mappings file is refused (see the log); the live version serves until it is fixed"
	}
	c.JSON(http.StatusOK, r)
}
