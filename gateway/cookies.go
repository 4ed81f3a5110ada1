package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Cookie names: __Host- pins a cookie to this origin over https; plain
// http on loopback (local use) cannot carry that prefix.
func (s *Server) cookieName(base string) string {
	if s.secureCookies {
		return "__Host-" + base
	}
	return base
}

func (s *Server) setCookie(c *gin.Context, base, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: s.cookieName(base), Value: value, Path: "/", MaxAge: maxAge,
		Secure: s.secureCookies, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearCookie(c *gin.Context, base string) { s.setCookie(c, base, "", -1) }

func (s *Server) cookie(c *gin.Context, base string) string {
	v, err := c.Cookie(s.cookieName(base))
	if err != nil {
		return ""
	}
	return v
}

func digest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

func equalSecret(a, b string) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// sameOrigin refuses cross-site form posts: browsers send Origin on POST.
func (s *Server) sameOrigin(c *gin.Context) bool {
	o := c.GetHeader("Origin")
	return o == "" || o == s.publicOrigin
}
