// Package gateway wires fedgate's HTTP service: it builds the core and
// the shared HTTP kit, mounts the surfaces (sign-in, browser, JSON API,
// admin, CLI, Cognito), and serves the middleware, metrics, health checks
// and the issuer's discovery documents.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange/issuer"
	"fedgate/gateway/admin"
	"fedgate/gateway/api"
	"fedgate/gateway/browser"
	"fedgate/gateway/cli"
	"fedgate/gateway/cognito"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/signin"
	"fedgate/gateway/store"
	"fedgate/web"
)

// Deps is everything the server needs from outside: what the core needs.
// main wires real ones, tests wire their own. The server counts vends in
// its metrics and then calls OnVend, if set.
type Deps = core.Deps

// Server serves fedgate.
type Server struct {
	cfg      *config.File
	store    store.Store
	issuer   *issuer.Issuer
	core     *core.Core
	log      *slog.Logger
	now      func() time.Time
	kit      *httpkit.Kit
	engine   *gin.Engine
	metrics  *metrics
	signin   *signin.Service
	surfaces []Surface
}

// A Surface is a part of the HTTP service that mounts its own routes.
type Surface interface {
	Mount(r *gin.Engine)
}

// New builds a server and loads the live configuration from the store.
func New(ctx context.Context, d Deps) (*Server, error) {
	pages, err := web.Pages()
	if err != nil {
		return nil, fmt.Errorf("loading page templates: %w", err)
	}
	s := &Server{
		cfg: d.Config, store: d.Store, issuer: d.Issuer, log: d.Logger, now: d.Now,
		metrics: newMetrics(),
	}
	cd := d
	cd.OnVend = func(ctx context.Context, ok bool) {
		s.metrics.countVend(ctx, ok)
		if d.OnVend != nil {
			d.OnVend(ctx, ok)
		}
	}
	s.core, err = core.New(ctx, cd)
	if err != nil {
		return nil, err
	}
	s.kit, err = httpkit.New(httpkit.Options{
		PublicURL: d.Config.Server.PublicURL, Pages: pages, Log: d.Logger, Rand: d.Rand, Now: d.Now, Audit: s.core.Audit,
	})
	if err != nil {
		return nil, fmt.Errorf("public_url: %w", err)
	}
	s.metrics.registry.MustRegister(s.core.SAMLMetadataCollector())
	s.signin = signin.New(s.core, s.kit)
	s.surfaces = []Surface{
		s.signin,
		browser.New(s.core, s.kit, s.signin, d.Upstream),
		api.New(s.core, s.kit),
		admin.New(s.core, s.kit, s.signin),
		cli.New(s.core, s.kit, s.signin),
		cognito.New(s.core, s.kit, s.cfg.Cognito, s.log, s.now),
	}
	s.engine = s.routes()
	return s, nil
}

func (s *Server) routes() *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Only the configured proxies may set the client address (X-Forwarded-For);
	// by default nobody can, so logs, audit and rate limits see the TCP peer.
	if err := r.SetTrustedProxies(s.cfg.Server.TrustedProxies); err != nil {
		panic(err) // validated with the configuration
	}
	r.Use(s.requestContext, s.recoverPanics, s.securityHeaders, s.limitBody)
	r.Use(s.auditContext, s.metrics.countRequests)
	r.NoRoute(func(c *gin.Context) {
		s.kit.Fail(c, core.Errorf(http.StatusNotFound, core.CodeNotFound, "There is nothing at this address."))
	})
	r.NoMethod(func(c *gin.Context) {
		s.kit.Fail(c, core.Errorf(http.StatusMethodNotAllowed, core.CodeMethodNotAllowed, "This address does not accept %s.", c.Request.Method))
	})

	r.GET("/healthz", s.healthz)
	r.GET("/metrics", s.metrics.handler())
	r.GET("/readyz", s.readyz)
	r.GET("/.well-known/openid-configuration", s.discovery)
	r.GET("/.well-known/jwks.json", s.jwks)
	r.GET("/pools/:name/.well-known/openid-configuration", s.discovery)
	r.GET("/pools/:name/.well-known/jwks.json", s.jwks)
	r.GET("/saml/idp/metadata", s.samlIdPMetadata)
	r.StaticFS("/static", http.FS(web.Static()))

	for _, surface := range s.surfaces {
		surface.Mount(r)
	}
	return r
}

// Handler is the whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.engine }

// Serve answers on ln until ctx ends, then drains in-flight requests for
// the configured grace period. It also keeps the configuration in step.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.core.Run(watchCtx)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", s.cfg.Server.ShutdownGrace.D().String())
	shutCtx, cancel := context.WithTimeout(context.Background(), s.cfg.Server.ShutdownGrace.D())
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) healthz(c *gin.Context) { c.String(http.StatusOK, "ok\n") }

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		core.LogFrom(ctx, s.log).Warn("not ready: store", "error", err)
		c.String(http.StatusServiceUnavailable, "store unavailable\n")
		return
	}
	if len(s.issuer.JWKS().Keys) == 0 || s.core.Snapshot() == nil {
		c.String(http.StatusServiceUnavailable, "not ready\n")
		return
	}
	c.String(http.StatusOK, "ready\n")
}

func (s *Server) discovery(c *gin.Context) {
	iss := s.cfg.Server.PublicURL
	if name := c.Param("name"); name != "" {
		p := s.core.Snapshot().Pools[name]
		if p == nil || !p.Cfg.OwnIssuer || p.Cfg.Name != name {
			s.kit.Fail(c, core.Errorf(http.StatusNotFound, core.CodeNotFound, "There is no pool issuer at this address."))
			return
		}
		iss = p.IssuerURL
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, issuer.Discovery(iss))
}

func (s *Server) jwks(c *gin.Context) {
	if name := c.Param("name"); name != "" {
		if p := s.core.Snapshot().Pools[name]; p == nil || !p.Cfg.OwnIssuer || p.Cfg.Name != name {
			s.kit.Fail(c, core.Errorf(http.StatusNotFound, core.CodeNotFound, "There is no pool issuer at this address."))
			return
		}
	}
	// Short cache: a rotated key must reach verifiers before it signs.
	c.Header("Cache-Control", "public, max-age=60")
	c.JSON(http.StatusOK, s.issuer.JWKS())
}

// samlIdPMetadata serves the broker's IdP metadata: what IAM needs
// (aws iam create-saml-provider). Every published certificate is in it,
// so a rotation overlaps.
func (s *Server) samlIdPMetadata(c *gin.Context) {
	b, err := s.core.SAMLBrokerMetadata(c.Request.Context())
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/samlmetadata+xml", b)
}
