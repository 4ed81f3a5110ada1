package httpkit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fedgate/gateway/core"
	"fedgate/gateway/wire"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Page is the data every template sees.
type Page struct {
	Title     string
	RequestID string
}

// ErrorPage is the data of the error page.
type ErrorPage struct {
	Page
	Heading, Message, Code string
	// ErrorRequestID is shown next to the code, so the footer does not
	// repeat it.
	ErrorRequestID string
}

// Render writes an HTML page; no-store when it may carry a secret.
func (s *Kit) Render(c *gin.Context, status int, name string, data any, noStore bool) {
	var buf bytes.Buffer
	if err := s.pages.Render(&buf, name, data); err != nil {
		core.LogFrom(c.Request.Context(), s.log).Error("rendering page failed", "page", name, "error", err)
		c.String(http.StatusInternalServerError, "internal error\n")
		return
	}
	if noStore {
		NoCache(c)
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// NoCache keeps an answer out of every cache (it may carry a secret).
func NoCache(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}

// WantsJSON tells API callers from browsers.
func WantsJSON(c *gin.Context) bool {
	return strings.HasPrefix(c.Request.URL.Path, "/api/") || strings.HasPrefix(c.Request.URL.Path, "/admin/api/") || c.GetBool(CtxJSONErrors) ||
		strings.Contains(c.GetHeader("Accept"), "application/json") && !strings.Contains(c.GetHeader("Accept"), "text/html")
}

// Fail logs a refusal once, at the level its status deserves, and answers
// with the public part only.
func (s *Kit) Fail(c *gin.Context, e *core.Error) {
	e = core.AsClientClosed(c.Request.Context(), core.AsStoreOutage(e))
	log := core.LogFrom(c.Request.Context(), s.log)
	core.NoteRefusal(c.Request.Context(), e)
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
	NoCache(c)
	SetRetryAfter(c, e.RetryAfter)
	if WantsJSON(c) {
		c.AbortWithStatusJSON(e.Status, wire.APIError{Code: e.Code, Message: e.Message, RequestID: RequestID(c), Roles: e.Roles})
		return
	}
	c.Abort()
	s.Render(c, e.Status, "error", ErrorPage{
		Page:    Page{Title: headingFor(e)},
		Heading: headingFor(e), Message: e.Message, Code: e.Code, ErrorRequestID: RequestID(c),
	}, true)
}

func headingFor(e *core.Error) string {
	switch {
	case e.Code == core.CodeNoMatchingRule || e.Code == core.CodeRoleNotEntitled:
		return "No AWS role for you here"
	case e.Status == http.StatusNotFound:
		return "Not found"
	case e.Code == core.CodeStoreUnavailable:
		return "Try again in a moment"
	case e.Status >= 500:
		return "Something went wrong"
	case e.Status == http.StatusUnauthorized:
		return "Sign-in failed"
	default:
		return "This request was refused"
	}
}

// RequestID is the id the request context middleware gave the request.
func RequestID(c *gin.Context) string { return core.RequestID(c.Request.Context()) }

// RandomHex is n random bytes from the injected source, as hex.
func (s *Kit) RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := s.rand.Read(b); err != nil {
		panic("fedgate: random source failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// IsTooLarge tells whether reading a body failed on the size cap.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// FormError is the refusal of a form that could not be read.
func FormError(err error) *core.Error {
	if IsTooLarge(err) {
		return core.NewError(http.StatusRequestEntityTooLarge, core.CodeTooLarge, "The form is too large.", err)
	}
	return core.NewError(http.StatusBadRequest, core.CodeInvalidRequest, "The form could not be read.", err)
}

// HumanDuration writes d as people read it ("1 h 30 min").
func HumanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	default:
		return fmt.Sprintf("%d h %d min", h, m)
	}
}

// SetRetryAfter sets the Retry-After header to d in whole seconds, rounded
// up; nothing when d is zero.
func SetRetryAfter(c *gin.Context, d time.Duration) {
	if d > 0 {
		c.Header("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
}
