package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestContext gives every request an id (the caller's X-Request-Id when
// it is sane) and a logger that carries it, then writes one access line.
func (s *Server) requestContext(c *gin.Context) {
	start := s.now()
	id := c.GetHeader("X-Request-Id")
	if !requestIDPattern.MatchString(id) {
		id = s.kit.RandomHex(12)
	}
	c.Header("X-Request-Id", id)
	c.Set("request_id", id)
	log := s.log.With("request_id", id)
	c.Request = c.Request.WithContext(core.WithLogger(c.Request.Context(), log))
	c.Next()
	// The path only: queries carry codes and states.
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	log.Log(c.Request.Context(), level, "request",
		"method", c.Request.Method,
		"path", c.Request.URL.Path,
		"status", c.Writer.Status(),
		"duration_ms", float64(s.now().Sub(start).Microseconds())/1000,
		"remote", c.ClientIP(),
	)
}

// securityHeaders applies to every response.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: under no-referrer browsers send
	// "Origin: null" on every form post, which sameOrigin must refuse.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
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

// auditContext records the source address and request id for audit entries.
func (s *Server) auditContext(c *gin.Context) {
	c.Request = c.Request.WithContext(core.WithAuditSource(c.Request.Context(), c.ClientIP(), httpkit.RequestID(c)))
	c.Next()
}
