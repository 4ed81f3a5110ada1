package gateway

// The admin surface (issue 6): who may use /admin, how they sign in, and
// the routes. Admins sign in through a configured provider (the browser
// flow with an "admin" flag) and get a role from the admin rules; automation
// presents the API token. Everything else under /admin is refused.

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/signin"
	"fedgate/gateway/store"
	"fedgate/idp"
)

const (
	kindAdminSession = "admin-session"
	adminCookie      = "fedgate-admin"
	actorAPIToken    = "api-token"
	ctxAdmin         = "fedgate.admin" // gin context key of the *adminPrincipal
	// Codes of the admin API.
	CodeForbidden            = "forbidden"
	CodeInvalidMappings      = "invalid_mappings"
	CodePreconditionFailed   = "precondition_failed"
	CodePreconditionRequired = "precondition_required"
	CodeConflict             = "conflict"
)

// adminSession is stored sealed under a random id held in the admin cookie.
// It keeps the verified claims of the sign-in, not a role: the role is
// worked out from them with the current admin rules on every request, so
// taking a role away (or the provider off admin.providers) takes effect at
// once (TestAdminRoleFollowsCurrentRules).
type adminSession struct {
	Provider, Subject, Display, CSRF string
	Claims                           map[string]any
}

// adminPrincipal is who is calling /admin and with which role.
type adminPrincipal struct {
	Actor    string // "provider:subject" or "api-token"
	Display  string
	Provider string
	Subject  string
	Role     string
	CSRF     string // empty for the API token
	viaToken bool
}

func (a *adminPrincipal) can(role string) bool {
	return config.AdminRoleRank(a.Role) >= config.AdminRoleRank(role)
}

// adminRules are the admin rules of the file configuration, compiled once
// in New (they are validated at load and do not change at run time).
func (s *Server) adminRules() (*rules.Mapping, error) {
	if s.adminMapping == nil {
		return nil, errors.New("admin rules do not compile")
	}
	return s.adminMapping, nil
}

// adminRoleFor is the most powerful role the admin rules give claims, or "".
func (s *Server) adminRoleFor(claims map[string]any) (string, []rules.Step, error) {
	m, err := s.adminRules()
	if err != nil {
		return "", nil, err
	}
	d, steps := m.Explain(claims)
	best := ""
	for _, g := range d.Grants {
		if r := config.AdminRoleOf(g.Role); config.AdminRoleRank(r) > config.AdminRoleRank(best) {
			best = r
		}
	}
	return best, steps, nil
}

func (s *Server) isAdminProvider(id string) bool {
	for _, p := range s.cfg.Admin.Providers {
		if p == id {
			return true
		}
	}
	return false
}

func isAdminAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, "/admin/api/") }

// adminAuth resolves the caller or refuses: 401 without credentials, 403
// when the role is too weak. Unsafe methods from a browser session also
// need the CSRF token (form field csrf, or header X-CSRF-Token for JSON).
func (s *Server) adminAuth(min string) gin.HandlerFunc {
	return func(c *gin.Context) {
		a, e := s.adminCaller(c)
		if e != nil {
			if !isAdminAPI(c) && e.Status == http.StatusUnauthorized {
				s.renderAdminSignIn(c, http.StatusUnauthorized, "")
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
				s.kit.Fail(c, core.Errorf(http.StatusForbidden, core.CodeCSRF, "This form was posted from another site."))
				return
			}
			token := c.GetHeader("X-CSRF-Token")
			if token == "" && !isAdminAPI(c) {
				token = c.PostForm("csrf")
			}
			if !httpkit.EqualSecret(token, a.CSRF) {
				s.kit.Fail(c, core.Errorf(http.StatusForbidden, core.CodeCSRF, "The form's security token is missing or wrong. Reload the page and try again."))
				return
			}
		}
		c.Set(ctxAdmin, a)
		httpkit.NoCache(c)
		c.Next()
	}
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

func adminFrom(c *gin.Context) *adminPrincipal {
	v, _ := c.Get(ctxAdmin)
	a, _ := v.(*adminPrincipal)
	return a
}

// adminCaller reads the API token or the admin session.
func (s *Server) adminCaller(c *gin.Context) (*adminPrincipal, *core.Error) {
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
		return &adminPrincipal{Actor: actorAPIToken, Display: "API token", Role: s.cfg.Admin.APITokenRole, viaToken: true}, nil
	}
	unauth := core.Errorf(http.StatusUnauthorized, core.CodeUnauthorized, "Sign in as an admin first.")
	id := s.kit.Cookie(c, adminCookie)
	if id == "" || len(id) > 128 {
		return nil, unauth
	}
	var sess adminSession
	if err := s.core.GetSealed(c.Request.Context(), kindAdminSession, id, &sess); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, unauth
		}
		return nil, core.Internal(err)
	}
	role, why, err := s.adminSessionRole(&sess)
	if err != nil {
		return nil, core.Internal(err)
	}
	if role == "" {
		s.endAdminSession(c, id, &sess, why)
		return nil, core.Errorf(http.StatusUnauthorized, core.CodeUnauthorized, "Your admin access has changed. Sign in again.")
	}
	return &adminPrincipal{
		Actor: sess.Provider + ":" + sess.Subject, Display: sess.Display, Provider: sess.Provider, Subject: sess.Subject,
		Role: role, CSRF: sess.CSRF,
	}, nil
}

// adminSessionRole is the role the current admin configuration gives a
// session, or "" with the reason it gives none.
func (s *Server) adminSessionRole(sess *adminSession) (role, why string, err error) {
	switch {
	case !s.isAdminProvider(sess.Provider):
		return "", "the provider is no longer one admins sign in with", nil
	case sess.Claims == nil: // a session written before claims were kept
		return "", "the session holds no claims", nil
	}
	role, _, err = s.adminRoleFor(sess.Claims)
	if err != nil || role != "" {
		return role, "", err
	}
	return "", "no admin rule matches any more", nil
}

// endAdminSession deletes a session the admin configuration no longer
// allows, clears its cookie and records why.
func (s *Server) endAdminSession(c *gin.Context, id string, sess *adminSession, why string) {
	ctx := c.Request.Context()
	if err := s.store.DeleteEphemeral(ctx, kindAdminSession, id); err != nil {
		core.LogFrom(ctx, s.log).Error("deleting a withdrawn admin session failed", "error", err)
	}
	s.kit.ClearCookie(c, adminCookie)
	s.core.Audit(ctx, store.AuditEntry{Kind: store.AuditAdminSignIn, Actor: sess.Provider + ":" + sess.Subject, Provider: sess.Provider,
		Subject: sess.Subject, Result: store.AuditRefused, Reason: "admin session ended: " + why})
}

// completeAdminSignIn turns a verified sign-in into an admin session, or
// refuses (and audits) a person the admin rules give no role.
func (s *Server) completeAdminSignIn(c *gin.Context, providerID string, ident *idp.Identity) {
	ctx := c.Request.Context()
	// The claims as the session will hold them (a JSON round trip), so the
	// role worked out on later requests is the one decided here.
	claims, err := jsonClaims(ident.Claims)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	role, _, err := s.adminRoleFor(claims)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	display := (&core.Principal{Ident: ident}).DisplayName()
	entry := store.AuditEntry{Kind: store.AuditAdminSignIn, Actor: providerID + ":" + ident.Subject, Provider: providerID,
		Subject: ident.Subject, Role: role, Result: store.AuditOK}
	if role == "" {
		entry.Result, entry.Reason = store.AuditRefused, "no admin rule matched"
		s.core.Audit(ctx, entry)
		s.kit.Fail(c, core.Errorf(http.StatusForbidden, CodeForbidden, "You signed in, but you are not an admin of this gateway. Ask an owner to add you to the admin rules."))
		return
	}
	sess := adminSession{Provider: providerID, Subject: ident.Subject, Display: display, Claims: claims, CSRF: s.kit.RandomHex(24)}
	id := s.kit.RandomHex(32)
	ttl := s.cfg.Admin.SessionTTL.D()
	if err := s.core.PutSealed(ctx, kindAdminSession, id, sess, ttl); err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	s.core.Audit(ctx, entry)
	s.kit.SetCookie(c, adminCookie, id, int(ttl.Seconds()))
	httpkit.NoCache(c)
	c.Redirect(http.StatusSeeOther, "/admin")
}

// jsonClaims copies claims through JSON, never returning nil.
func jsonClaims(claims map[string]any) (map[string]any, error) {
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out == nil { // the claims were nil: "null"
		out = map[string]any{}
	}
	return out, nil
}

// adminSignOut ends the session. Like every other form post it must come
// from fedgate's own origin with the session's CSRF token, so another site
// cannot sign an admin out; without a live session there is nothing to end.
func (s *Server) adminSignOut(c *gin.Context) {
	if !s.kit.SameOrigin(c) {
		s.kit.Fail(c, core.Errorf(http.StatusForbidden, core.CodeCSRF, "This form was posted from another site."))
		return
	}
	id := s.kit.Cookie(c, adminCookie)
	if id != "" && len(id) <= 128 {
		var sess adminSession
		err := s.core.GetSealed(c.Request.Context(), kindAdminSession, id, &sess)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			s.kit.Fail(c, core.Internal(err))
			return
		case !httpkit.EqualSecret(c.PostForm("csrf"), sess.CSRF):
			s.kit.Fail(c, core.Errorf(http.StatusForbidden, core.CodeCSRF, "The form's security token is missing or wrong. Reload the page and try again."))
			return
		default:
			if err := s.store.DeleteEphemeral(c.Request.Context(), kindAdminSession, id); err != nil {
				s.kit.Fail(c, core.Internal(err))
				return
			}
		}
	}
	s.kit.ClearCookie(c, adminCookie)
	c.Redirect(http.StatusSeeOther, "/admin")
}

// adminRoutes registers /admin; called from routes().
func (s *Server) adminRoutes(r *gin.Engine) {
	// Public: the sign-in entry points.
	r.GET("/admin/login/:provider", s.adminStartLogin)
	r.POST("/admin/login/:provider", s.kit.AuditRefusals(store.AuditAdminSignIn), s.adminPasswordLogin)

	view, edit, own := s.adminAuth(config.AdminViewer), s.adminAuth(config.AdminEditor), s.adminAuth(config.AdminOwner)
	api := r.Group("/admin/api/v1")
	api.GET("/openapi.json", s.adminOpenAPI)
	api.GET("/me", view, s.apiAdminMe)
	api.GET("/mappings", view, s.apiGetMappings)
	api.PUT("/mappings", own, s.apiPutMappings)
	api.GET("/providers", view, s.apiListProviders)
	api.POST("/providers", edit, s.apiCreateProvider)
	api.GET("/providers/:id", view, s.apiGetProvider)
	api.PUT("/providers/:id", edit, s.apiPutProvider)
	api.DELETE("/providers/:id", edit, s.apiDeleteProvider)
	api.GET("/pools", view, s.apiListPools)
	api.POST("/pools", edit, s.apiCreatePool)
	api.GET("/pools/:pool", view, s.apiGetPool)
	api.PUT("/pools/:pool", edit, s.apiPutPool)
	api.DELETE("/pools/:pool", edit, s.apiDeletePool)
	api.GET("/pools/:pool/rules", view, s.apiListRules)
	api.POST("/pools/:pool/rules", edit, s.apiCreateRule)
	api.PUT("/pools/:pool/rules", edit, s.apiReorderRules)
	api.GET("/pools/:pool/rules/:index", view, s.apiGetRule)
	api.PUT("/pools/:pool/rules/:index", edit, s.apiPutRule)
	api.DELETE("/pools/:pool/rules/:index", edit, s.apiDeleteRule)
	api.GET("/pools/:pool/trust-policy", view, s.apiTrustPolicy)
	api.POST("/simulate", view, s.apiSimulate)
	api.GET("/versions", view, s.apiListVersions)
	api.GET("/versions/:version", view, s.apiGetVersion)
	api.POST("/versions/:version/restore", own, s.apiRestoreVersion)
	api.GET("/audit", view, s.apiListAudit)
	api.GET("/audit/export", view, s.apiExportAudit)

	ui := r.Group("/admin")
	ui.GET("", view, s.uiAdminHome)
	ui.POST("/logout", s.adminSignOut)
	ui.GET("/providers/:id", view, s.uiProvider)
	ui.POST("/providers/:id", edit, s.uiSaveProvider)
	ui.POST("/providers/:id/delete", edit, s.uiDeleteProvider)
	ui.GET("/pools/:pool", view, s.uiPool)
	ui.POST("/pools/:pool", edit, s.uiSavePool)
	ui.POST("/pools/:pool/delete", edit, s.uiDeletePool)
	ui.GET("/pools/:pool/rules/:index", view, s.uiRule)
	ui.POST("/pools/:pool/rules/:index", edit, s.uiSaveRule)
	ui.POST("/pools/:pool/rules/:index/delete", edit, s.uiDeleteRule)
	ui.POST("/pools/:pool/rules/:index/move", edit, s.uiMoveRule)
	ui.GET("/simulate", view, s.uiSimulate)
	ui.POST("/simulate", view, s.uiSimulate)
	ui.GET("/history", view, s.uiHistory)
	ui.GET("/history/:version", view, s.uiVersion)
	ui.POST("/history/:version/restore", own, s.uiRestore)
	ui.GET("/audit", view, s.uiAudit)
}

// adminLoginTarget is a provider admins may sign in with.
func (s *Server) adminLoginTarget(c *gin.Context) (*core.Provider, *core.Error) {
	id := c.Param("provider")
	lp := s.core.Snapshot().Providers[id]
	if lp == nil || !s.isAdminProvider(id) {
		return nil, core.Errorf(http.StatusNotFound, core.CodeUnknownProvider, "Admins cannot sign in with that identity provider.")
	}
	return lp, nil
}

// adminStartLogin begins an admin sign-in.
func (s *Server) adminStartLogin(c *gin.Context) {
	prov, e := s.adminLoginTarget(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.signin.Send(c, kindAdminSignIn, nil, prov, nil)
}

// adminPasswordLogin checks a static provider's form for an admin flow.
func (s *Server) adminPasswordLogin(c *gin.Context) {
	prov, e := s.adminLoginTarget(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.signin.PasswordLogin(c, nil, prov, func(f *signin.Flow) bool { return f.Kind == kindAdminSignIn && f.Provider == prov.Cfg.ID })
}

// auditContext records the source address and request id for audit entries.
func (s *Server) auditContext(c *gin.Context) {
	c.Request = c.Request.WithContext(core.WithAuditSource(c.Request.Context(), c.ClientIP(), httpkit.RequestID(c)))
	c.Next()
}

// kindAdminSignIn is the kind of browser sign-ins that end in an admin session.
const kindAdminSignIn = "admin"

// registerAdminSignIn makes admin sign-ins end in an admin session.
func (s *Server) registerAdminSignIn() {
	s.signin.Register(kindAdminSignIn, signin.Continuation{
		Target: func(f *signin.Flow) (*core.Pool, *core.Provider, *core.Error) {
			lp := s.core.Snapshot().Providers[f.Provider]
			if lp == nil || !s.isAdminProvider(f.Provider) {
				return nil, nil, core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "The identity provider of this sign-in has changed. Start again.")
			}
			return nil, lp, nil
		},
		PasswordForm: func(c *gin.Context, status int, _ *core.Pool, prov *core.Provider, state, message, username string) {
			s.renderAdminPassword(c, status, prov, state, message, username)
		},
		Complete: func(c *gin.Context, _ *signin.Flow, _ *core.Pool, prov *core.Provider, ident *idp.Identity) {
			s.completeAdminSignIn(c, prov.Cfg.ID, ident)
		},
		NoSAML:    "Admin sign-in through a SAML identity provider is not supported; use an OIDC provider.",
		AuditKind: store.AuditAdminSignIn,
	})
}
