package httpkit

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
)

// Cookie names: __Host- pins a cookie to this origin over https; plain
// http on loopback (local use) cannot carry that prefix.
func (s *Kit) CookieName(base string) string {
	if s.secureCookies {
		return "__Host-" + base
	}
	return base
}

// SetCookie sets an HttpOnly, SameSite=Lax cookie (__Host- and Secure
// over https).
func (s *Kit) SetCookie(c *gin.Context, base, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: s.CookieName(base), Value: value, Path: "/", MaxAge: maxAge,
		Secure: s.secureCookies, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// ClearCookie removes a cookie SetCookie set.
func (s *Kit) ClearCookie(c *gin.Context, base string) { s.SetCookie(c, base, "", -1) }

// Cookie is the value of a cookie SetCookie set, or "".
func (s *Kit) Cookie(c *gin.Context, base string) string {
	v, err := c.Cookie(s.CookieName(base))
	if err != nil {
		return ""
	}
	return v
}

// Digest is the hex SHA-256 of v, to store a binding without its value.
func Digest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// EqualSecret compares two secrets in constant time; an empty one never
// matches.
func EqualSecret(a, b string) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// SameOrigin refuses cross-site form posts: browsers send Origin on POST.
func (s *Kit) SameOrigin(c *gin.Context) bool {
	o := c.GetHeader("Origin")
	return o == "" || o == s.publicOrigin
}

// CrossSite refuses a form posted from another origin.
func CrossSite() *core.Error {
	return core.Errorf(http.StatusForbidden, core.CodeCSRF, "This form was posted from another site.")
}

// WrongFormToken refuses a form whose CSRF token is missing or wrong.
func WrongFormToken() *core.Error {
	return core.Errorf(http.StatusForbidden, core.CodeCSRF, "The form's security token is missing or wrong. Reload the page and try again.")
}

// PostedForm opens a browser form post: same origin first, then the form
// parsed. On false it has answered the refusal itself.
func (s *Kit) PostedForm(c *gin.Context) bool {
	if !s.SameOrigin(c) {
		s.Fail(c, CrossSite())
		return false
	}
	if err := c.Request.ParseForm(); err != nil {
		s.Fail(c, FormError(err))
		return false
	}
	return true
}
