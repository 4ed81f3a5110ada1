package admin

// Admin sign-in: the browser sign-in of package signin, through one of
// admin.providers, ending in an admin session; and signing out.

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/signin"
	"fedgate/gateway/store"
	"fedgate/idp"
)

// startLogin begins an admin sign-in.
func (s *Admin) startLogin(c *gin.Context) {
	prov, e := s.loginTarget(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.signin.Send(c, kindSignIn, nil, prov, nil)
}

// passwordLogin checks a static provider's form for an admin flow.
func (s *Admin) passwordLogin(c *gin.Context) {
	prov, e := s.loginTarget(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.signin.PasswordLogin(c, nil, prov, func(f *signin.Flow) bool { return f.Kind == kindSignIn && f.Provider == prov.Cfg.ID })
}

// loginTarget is a provider admins may sign in with.
func (s *Admin) loginTarget(c *gin.Context) (*core.Provider, *core.Error) {
	id := c.Param("provider")
	lp := s.core.Snapshot().Providers[id]
	if lp == nil || !s.isAdminProvider(id) {
		return nil, core.Errorf(http.StatusNotFound, core.CodeUnknownProvider, "Admins cannot sign in with that identity provider.")
	}
	return lp, nil
}

// signInContinuation makes admin sign-ins end in an admin session.
func (s *Admin) signInContinuation() signin.Continuation {
	return signin.Continuation{
		Target: func(f *signin.Flow) (*core.Pool, *core.Provider, *core.Error) {
			lp := s.core.Snapshot().Providers[f.Provider]
			if lp == nil || !s.isAdminProvider(f.Provider) {
				return nil, nil, core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "The identity provider of this sign-in has changed. Start again.")
			}
			return nil, lp, nil
		},
		PasswordForm: func(c *gin.Context, status int, _ *core.Pool, prov *core.Provider, state, message, username string) {
			s.renderPassword(c, status, prov, state, message, username)
		},
		Complete: func(c *gin.Context, _ *signin.Flow, _ *core.Pool, prov *core.Provider, ident *idp.Identity) {
			s.completeSignIn(c, prov.Cfg.ID, ident)
		},
		NoSAML:    "Admin sign-in through a SAML identity provider is not supported; use an OIDC provider.",
		AuditKind: store.AuditAdminSignIn,
	}
}

// completeSignIn turns a verified sign-in into an admin session, or
// refuses (and audits) a person the admin rules give no role.
func (s *Admin) completeSignIn(c *gin.Context, providerID string, ident *idp.Identity) {
	ctx := c.Request.Context()
	// The claims as the session will hold them (a JSON round trip), so the
	// role worked out on later requests is the one decided here.
	claims, err := jsonClaims(ident.Claims)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	role, err := s.roleFor(claims)
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
	sess := session{Provider: providerID, Subject: ident.Subject, Display: display, Claims: claims, CSRF: s.kit.RandomHex(24)}
	id := s.kit.RandomHex(32)
	ttl := s.cfg.Admin.SessionTTL.D()
	if err := s.core.PutSealed(ctx, kindSession, id, sess, ttl); err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	s.core.Audit(ctx, entry)
	s.kit.SetCookie(c, sessionCookie, id, int(ttl.Seconds()))
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

// signOut ends the session. Like every other form post it must come
// from fedgate's own origin with the session's CSRF token, so another site
// cannot sign an admin out; without a live session there is nothing to end.
func (s *Admin) signOut(c *gin.Context) {
	if !s.kit.SameOrigin(c) {
		s.kit.Fail(c, httpkit.CrossSite())
		return
	}
	id := s.kit.Cookie(c, sessionCookie)
	if id != "" && len(id) <= 128 {
		var sess session
		err := s.core.GetSealed(c.Request.Context(), kindSession, id, &sess)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			s.kit.Fail(c, core.Internal(err))
			return
		case !httpkit.EqualSecret(c.PostForm("csrf"), sess.CSRF):
			s.kit.Fail(c, httpkit.WrongFormToken())
			return
		default:
			if err := s.store.DeleteEphemeral(c.Request.Context(), kindSession, id); err != nil {
				s.kit.Fail(c, core.Internal(err))
				return
			}
		}
	}
	s.kit.ClearCookie(c, sessionCookie)
	c.Redirect(http.StatusSeeOther, "/admin")
}

// signInPage lists the providers admins sign in with.
type signInPage struct {
	httpkit.Page
	Providers []signin.ProviderLink
	Error     string
}

// renderSignIn answers a request without an admin session.
func (s *Admin) renderSignIn(c *gin.Context, status int, msg string) {
	data := signInPage{Page: httpkit.Page{Title: "Admin sign-in", RequestID: httpkit.RequestID(c)}, Error: msg}
	snap := s.core.Snapshot()
	for _, id := range s.cfg.Admin.Providers {
		if lp := snap.Providers[id]; lp != nil {
			data.Providers = append(data.Providers, signin.ProviderLink{DisplayName: lp.DisplayName(), URL: "/admin/login/" + url.PathEscape(id), Demo: idp.IsDemo(lp.Provider)})
		}
	}
	s.kit.Render(c, status, "admin_signin", data, true)
}

// passwordPage is the password form of a static provider.
type passwordPage struct {
	httpkit.Page
	Provider, Action, State, Error, Username string
}

// renderPassword shows the password form of an admin sign-in.
func (s *Admin) renderPassword(c *gin.Context, status int, prov *core.Provider, state, msg, username string) {
	s.kit.Render(c, status, "admin_password", passwordPage{
		Page:     httpkit.Page{Title: "Admin sign-in", RequestID: httpkit.RequestID(c)},
		Provider: prov.DisplayName(), Action: "/admin/login/" + url.PathEscape(prov.Cfg.ID), State: state, Error: msg, Username: username,
	}, true)
}
