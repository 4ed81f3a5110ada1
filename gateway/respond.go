package gateway

import (
	"bytes"
	"fedgate/gateway/core"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// page is the data every template sees.
type page struct {
	Title     string
	RequestID string
}

type errorPage struct {
	page
	Heading, Message, Code string
	// ErrorRequestID is shown next to the code, so the footer does not
	// repeat it.
	ErrorRequestID string
}

// render writes an HTML page; no-store when it may carry a secret.
func (s *Server) render(c *gin.Context, status int, name string, data any, noStore bool) {
	var buf bytes.Buffer
	if err := s.pages.Render(&buf, name, data); err != nil {
		core.LogFrom(c.Request.Context(), s.log).Error("rendering page failed", "page", name, "error", err)
		c.String(http.StatusInternalServerError, "internal error\n")
		return
	}
	if noStore {
		noCache(c)
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func noCache(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}

// wantsJSON tells API callers from browsers.
func wantsJSON(c *gin.Context) bool {
	return strings.HasPrefix(c.Request.URL.Path, "/api/") || strings.HasPrefix(c.Request.URL.Path, "/admin/api/") || c.GetBool(ctxJSONErrors) ||
		strings.Contains(c.GetHeader("Accept"), "application/json") && !strings.Contains(c.GetHeader("Accept"), "text/html")
}

// apiError is the JSON body of every API refusal.
type apiError struct {
	Code      string   `json:"code"`
	Message   string   `json:"message"`
	RequestID string   `json:"request_id"`
	Roles     []string `json:"roles,omitempty"`
}

// fail logs a refusal once, at the level its status deserves, and answers
// with the public part only.
func (s *Server) fail(c *gin.Context, e *core.Error) {
	log := core.LogFrom(c.Request.Context(), s.log)
	core.NoteRefusal(c.Request.Context(), e) // audit_refusals.go
	attrs := []any{"code", e.Code, "status", e.Status}
	if e.Cause != nil {
		attrs = append(attrs, "cause", e.Cause.Error())
	}
	switch {
	case e.Status >= 500:
		log.Error("request failed", attrs...)
	case e.Status == http.StatusNotFound || e.Status == http.StatusMethodNotAllowed:
		log.Debug("request refused", attrs...)
	default:
		log.Warn("request refused", attrs...)
	}
	noCache(c)
	if wantsJSON(c) {
		c.AbortWithStatusJSON(e.Status, apiError{Code: e.Code, Message: e.Message, RequestID: requestID(c), Roles: e.Roles})
		return
	}
	c.Abort()
	s.render(c, e.Status, "error", errorPage{
		page:    page{Title: headingFor(e)},
		Heading: headingFor(e), Message: e.Message, Code: e.Code, ErrorRequestID: requestID(c),
	}, true)
}

func headingFor(e *core.Error) string {
	switch {
	case e.Code == core.CodeNoMatchingRule || e.Code == core.CodeRoleNotEntitled:
		return "No AWS role for you here"
	case e.Status == http.StatusNotFound:
		return "Not found"
	case e.Status >= 500:
		return "Something went wrong"
	case e.Status == http.StatusUnauthorized:
		return "Sign-in failed"
	default:
		return "This request was refused"
	}
}
