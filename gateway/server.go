// Package gateway wires fedgate's HTTP service: it builds the core and
// the shared HTTP kit, mounts the surfaces (sign-in, browser, JSON API,
// admin, CLI, Cognito), and serves the middleware, metrics, health checks
// and the issuer's discovery documents.
package gateway

import (
	"context"
	"crypto/tls"
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
	"fedgate/gateway/buildinfo"
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
	build    buildinfo.Info
}

// An Option adjusts a server beyond its Deps.
type Option func(*Server)

// WithBuild names the running build in /readyz.
func WithBuild(b buildinfo.Info) Option { return func(s *Server) { s.build = b } }

// A Surface is a part of the HTTP service that mounts its own routes.
type Surface interface {
	Mount(r *gin.Engine)
}

// New builds a server and loads the live configuration from the store.
func New(ctx context.Context, d Deps, opts ...Option) (*Server, error) {
	pages, err := web.Pages()
	if err != nil {
		return nil, fmt.Errorf("loading page templates: %w", err)
	}
	s := &Server{
		cfg: d.Config, store: d.Store, issuer: d.Issuer, log: d.Logger, now: d.Now,
		metrics: newMetrics(), build: buildinfo.Read(""),
	}
	for _, o := range opts {
		o(s)
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
	s.metrics.registry.MustRegister(s.core.SAMLMetadataCollector(), s.core.MappingsFileCollector())
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
	r.Use(s.requestContext, s.recoverPanics, s.securityHeaders, s.limitBody, s.metrics.countRequests)
	r.NoRoute(func(c *gin.Context) {
		s.kit.Fail(c, core.Errorf(http.StatusNotFound, core.CodeNotFound, "There is nothing at this address."))
	})
	r.NoMethod(func(c *gin.Context) {
		s.kit.Fail(c, core.Errorf(http.StatusMethodNotAllowed, core.CodeMethodNotAllowed, "This address does not accept %s.", c.Request.Method))
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	if s.cfg.Server.OpsListen == "" {
		r.GET("/metrics", s.metrics.handler())
	}
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

// Listeners are where a server answers.
type Listeners struct {
	// Public serves everything but pprof.
	Public net.Listener
	// TLS, when set, makes Public a TLS listener offering HTTP/2 and
	// HTTP/1.1.
	TLS *tls.Config
	// Ops, when set, serves /metrics, /healthz, /readyz and /debug/pprof/
	// (see OpsHandler).
	Ops net.Listener
}

// Serve answers on ln until ctx ends, then drains in-flight requests for
// the configured grace period. It also keeps the configuration in step.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.ServeListeners(ctx, Listeners{Public: ln})
}

// ServeListeners is Serve on several listeners: all of them stop together
// when ctx ends or any one fails.
func (s *Server) ServeListeners(ctx context.Context, ls Listeners) error {
	public := s.httpServer(s.engine)
	public.TLSConfig = ls.TLS
	servers := []*http.Server{public}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.core.Run(watchCtx)

	errc := make(chan error, 2)
	go func() {
		if ls.TLS != nil {
			errc <- unlessClosed(public.ServeTLS(ls.Public, "", ""))
			return
		}
		errc <- unlessClosed(public.Serve(ls.Public))
	}()
	if ls.Ops != nil {
		ops := s.httpServer(s.OpsHandler())
		servers = append(servers, ops)
		go func() { errc <- unlessClosed(ops.Serve(ls.Ops)) }()
	}
	running := len(servers)
	var failed error
	select {
	case failed = <-errc:
		running--
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", s.cfg.Server.ShutdownGrace.D().String())
	shutCtx, cancel := context.WithTimeout(context.Background(), s.cfg.Server.ShutdownGrace.D())
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutCtx); err != nil && failed == nil {
			failed = fmt.Errorf("shutdown: %w", err)
		}
	}
	for ; running > 0; running-- {
		if err := <-errc; failed == nil {
			failed = err
		}
	}
	return failed
}

// unlessClosed drops the error http.Server.Serve returns after Shutdown.
func unlessClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// httpServer is an http.Server with fedgate's limits around h.
func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) discovery(c *gin.Context) {
	iss := s.cfg.IssuerBase()
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
