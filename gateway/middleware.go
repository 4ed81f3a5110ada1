package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestContext gives every request an id (the caller's X-Request-Id when
// it is sane), and puts in its context, in one step, what the layers below
// read there: a logger that carries the id, the source address and id for
// the audit log, and the surface for the metrics. Once the request is
// done it writes one access line.
func (s *Server) requestContext(c *gin.Context) {
	start := s.now()
	id := c.GetHeader("X-Request-Id")
	if !requestIDPattern.MatchString(id) {
		id = s.kit.RandomHex(12)
	}
	c.Header("X-Request-Id", id)
	remote := c.ClientIP()
	log := s.log.With("request_id", id)
	ctx := core.WithLogger(c.Request.Context(), log)
	ctx = core.WithAuditSource(ctx, remote, id)
	ctx = withSurface(ctx, surfaceOf(c.Request))
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	// The path only: queries carry codes and states.
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	log.LogAttrs(ctx, level, "request",
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", c.Writer.Status()),
		slog.Float64("duration_ms", float64(s.now().Sub(start).Microseconds())/1000),
		slog.String("remote", remote),
	)
}

// same-origin, not no-referrer: under no-referrer browsers send "Origin:
// null" on every form post, which sameOrigin must refuse.
const referrerPolicy = "same-origin"

const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders applies to every response. The values share one array,
// each header a slice of it with capacity one (so an Add copies rather
// than overwrites the next one): one allocation a response, not one a
// header. The names are in canonical form already.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	v := []string{"nosniff", "DENY", referrerPolicy, contentSecurityPolicy, "same-origin"}
	h["X-Content-Type-Options"] = v[0:1:1]
	h["X-Frame-Options"] = v[1:2:2]
	h["Referrer-Policy"] = v[2:3:3]
	h["Content-Security-Policy"] = v[3:4:4]
	h["Cross-Origin-Opener-Policy"] = v[4:5:5]
	if s.kit.SecureCookies() {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

// limitBody caps every request body; handlers see a *http.MaxBytesError.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.Server.MaxBodyBytes)
	}
	c.Next()
}

// recoverPanics turns a panic into a 500 without leaking it.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			core.LogFrom(c.Request.Context(), s.log).Error("panic in handler", "panic", r)
			s.kit.Fail(c, core.Internal(errors.New("panic")))
		}
	}()
	c.Next()
}
