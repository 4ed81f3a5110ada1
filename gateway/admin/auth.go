package admin

// Who may use /admin: the API token, or an admin session whose claims the
// current admin rules give a role.

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
)

const (
	// kindSignIn is the kind of browser sign-ins that end in an admin session.
	kindSignIn    = "admin"
	kindSession   = "admin-session"
	sessionCookie = "fedgate-admin"
	actorAPIToken = "api-token"
	ctxPrincipal  = "fedgate.admin" // gin context key of the *principal
)

// session is stored sealed under a random id held in the admin cookie.
// It keeps the verified claims of the sign-in, not a role: the role is
// worked out from them with the current admin rules on every request, so
// taking a role away (or the provider off admin.providers) takes effect at
// once.
type session struct {
	Provider, Subject, Display, CSRF string
	Claims                           map[string]any
}

// principal is who is calling /admin and with which role.
type principal struct {
	Actor    string // "provider:subject" or "api-token"
	Display  string
	Provider string
	Subject  string
	Role     string
	CSRF     string // empty for the API token
	viaToken bool
}

func (a *principal) can(role string) bool {
	return config.AdminRoleRank(a.Role) >= config.AdminRoleRank(role)
}

// roleFor is the most powerful role the admin rules give claims, or "".
func (s *Admin) roleFor(claims map[string]any) (string, error) {
	if s.rules == nil {
		return "", errors.New("admin rules do not compile")
	}
	d := s.rules.Evaluate(claims)
	best := ""
	for _, g := range d.Grants {
		if r := config.AdminRoleOf(g.Role); config.AdminRoleRank(r) > config.AdminRoleRank(best) {
			best = r
		}
	}
	return best, nil
}

// isAdminProvider reports whether admins sign in with the provider id.
func (s *Admin) isAdminProvider(id string) bool { return slices.Contains(s.cfg.Admin.Providers, id) }

func isAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, "/admin/api/") }

// authorize resolves the caller or refuses: 401 without credentials, 403
// when the role is too weak. Unsafe methods from a browser session also
// need the CSRF token (form field csrf, or header X-CSRF-Token for JSON).
func (s *Admin) authorize(min string) gin.HandlerFunc {
	return func(c *gin.Context) {
		a, e := s.caller(c)
		if e != nil {
			if !isAPI(c) && e.Status == http.StatusUnauthorized {
				s.renderSignIn(c, http.StatusUnauthorized, "")
				c.Abort()
				return
			}
			s.kit.Fail(c, e)
			return
		}
		if !a.can(min) {
			s.kit.Fail(c, core.Errorf(http.StatusForbidden, CodeForbidden, "Your admin role (%s) cannot do this; it needs %s.", a.Role, min))
			return
		}
		if unsafeMethod(c.Request.Method) && !a.viaToken {
			if !s.kit.SameOrigin(c) {
				s.kit.Fail(c, httpkit.CrossSite())
				return
			}
			token := c.GetHeader("X-CSRF-Token")
			if token == "" && !isAPI(c) {
				token = c.PostForm("csrf")
			}
			if !httpkit.EqualSecret(token, a.CSRF) {
				s.kit.Fail(c, httpkit.WrongFormToken())
				return
			}
		}
		c.Set(ctxPrincipal, a)
		httpkit.NoCache(c)
		c.Next()
	}
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

func principalOf(c *gin.Context) *principal {
	v, _ := c.Get(ctxPrincipal)
	a, _ := v.(*principal)
	return a
}

// caller reads the API token or the admin session.
func (s *Admin) caller(c *gin.Context) (*principal, *core.Error) {
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 1024 || s.cfg.Admin.APITokenSHA256 == "" {
			return nil, core.Errorf(http.StatusUnauthorized, core.CodeUnauthorized, "The admin API token is missing or wrong.")
		}
		sum := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(s.cfg.Admin.APITokenSHA256)) != 1 {
			return nil, core.Errorf(http.StatusUnauthorized, core.CodeUnauthorized, "The admin API token is missing or wrong.")
		}
		return &principal{Actor: actorAPIToken, Display: "API token", Role: s.cfg.Admin.APITokenRole, viaToken: true}, nil
	}
	unauth := core.Errorf(http.StatusUnauthorized, core.CodeUnauthorized, "Sign in as an admin first.")
	id := s.kit.Cookie(c, sessionCookie)
	var sess session
	if e := s.core.LookupSealed(c.Request.Context(), kindSession, id, &sess, unauth); e != nil {
		return nil, e
	}
	role, why, err := s.sessionRole(&sess)
	if err != nil {
		return nil, core.Internal(err)
	}
	if role == "" {
		s.endSession(c, id, &sess, why)
		return nil, core.Errorf(http.StatusUnauthorized, core.CodeUnauthorized, "Your admin access has changed. Sign in again.")
	}
	return &principal{
		Actor: sess.Provider + ":" + sess.Subject, Display: sess.Display, Provider: sess.Provider, Subject: sess.Subject,
		Role: role, CSRF: sess.CSRF,
	}, nil
}

// sessionRole is the role the current admin configuration gives a
// session, or "" with the reason it gives none.
func (s *Admin) sessionRole(sess *session) (role, why string, err error) {
	switch {
	case !s.isAdminProvider(sess.Provider):
		return "", "the provider is no longer one admins sign in with", nil
	case sess.Claims == nil: // a session written before claims were kept
		return "", "the session holds no claims", nil
	}
	role, err = s.roleFor(sess.Claims)
	if err != nil || role != "" {
		return role, "", err
	}
	return "", "no admin rule matches any more", nil
}

// endSession deletes a session the admin configuration no longer
// allows, clears its cookie and records why.
func (s *Admin) endSession(c *gin.Context, id string, sess *session, why string) {
	ctx := c.Request.Context()
	if err := s.store.DeleteEphemeral(ctx, kindSession, id); err != nil {
		core.LogFrom(ctx, s.log).Error("deleting a withdrawn admin session failed", "error", err)
	}
	s.kit.ClearCookie(c, sessionCookie)
	s.core.Audit(ctx, store.AuditEntry{Kind: store.AuditAdminSignIn, Actor: sess.Provider + ":" + sess.Subject, Provider: sess.Provider,
		Subject: sess.Subject, Result: store.AuditRefused, Reason: "admin session ended: " + why})
}
