package signin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/idp"
)

// readiness is implemented by providers that discover their upstream
// lazily; it tells why an IdP cannot be used right now.
type readiness interface {
	Ready(ctx context.Context) error
}

// ready asks a provider that can tell whether it is usable, before the
// browser is sent to it; others are taken as ready.
func ready(ctx context.Context, p any) error {
	if r, ok := p.(readiness); ok {
		return r.Ready(ctx)
	}
	return nil
}

// target resolves the pool and provider named in the path.
func (s *Service) target(c *gin.Context) (*core.Pool, *core.Provider, *core.Error) {
	pool, e := s.core.LookupPool(c.Param("pool"))
	if e != nil {
		return nil, nil, e
	}
	prov := pool.Provider(c.Param("provider"))
	if prov == nil {
		return nil, nil, core.Errorf(http.StatusNotFound, core.CodeUnknownProvider, "The pool %q does not accept that identity provider.", pool.Cfg.DisplayName)
	}
	return pool, prov, nil
}

// startLogin is the start page's link: GET /login/:pool/:provider.
func (s *Service) startLogin(c *gin.Context) {
	pool, prov, e := s.target(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.Send(c, KindBrowser, pool, prov, nil)
}

// redirectToIdP sends the browser to an OIDC provider's authorization
// endpoint with the flow's state, nonce and PKCE challenge.
func (s *Service) redirectToIdP(c *gin.Context, p idp.RedirectLogin, state string, f *Flow) {
	if err := ready(c.Request.Context(), p); err != nil {
		s.kit.Fail(c, core.FromIdP(err))
		return
	}
	authURL := p.AuthCodeURL(idp.Flow{State: state, Nonce: f.Nonce, PKCEVerifier: f.Verifier, RedirectURL: s.RedirectURL()})
	if authURL == "" {
		s.kit.Fail(c, core.FromIdP(idp.ErrUpstream))
		return
	}
	httpkit.NoCache(c)
	c.Redirect(http.StatusFound, authURL)
}

// callback is where an OIDC provider sends the browser back.
func (s *Service) callback(c *gin.Context) {
	q := c.Request.URL.Query()
	f, k, ok := s.resume(c, q.Get("state"))
	if !ok {
		return
	}
	s.noteFlow(c, f, k)
	if errCode := q.Get("error"); errCode != "" {
		e := core.Errorf(http.StatusUnauthorized, core.CodeUnauthorized, "The identity provider did not sign you in (%s).", core.Truncate(sanitizeIdPError(errCode), 64))
		s.refuse(c, f, k, e)
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		s.refuse(c, f, k, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The identity provider's answer has no authorization code. Start again."))
		return
	}
	pool, prov, e := k.Target(f)
	if e != nil {
		s.refuse(c, f, k, e)
		return
	}
	// RFC 9207: an IdP that names itself in the answer must be the one this
	// flow went to, or a hostile IdP could pass another IdP's code (and
	// this flow's PKCE verifier) through its own token endpoint.
	// An IdP that announces iss always sends it; an answer without it may
	// have been relayed by another IdP that left it out.
	iss, hasIss := q.Get("iss"), q.Has("iss")
	if hasIss && strings.TrimRight(iss, "/") != strings.TrimRight(prov.Cfg.Issuer(), "/") {
		e := core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The answer came from another identity provider than the one this sign-in went to. Start again.")
		e.Cause = errors.New("authorization response iss does not match the flow's provider")
		s.refuse(c, f, k, e)
		return
	}
	if a, ok := prov.Provider.(idp.ResponseIssuerAdvertiser); !hasIss && ok && a.AdvertisesResponseIssuer() {
		e := core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The identity provider's answer does not say who sent it, though this provider always does. Start again.")
		e.Cause = errors.New("authorization response lacks iss; the IdP advertises authorization_response_iss_parameter_supported")
		s.refuse(c, f, k, e)
		return
	}
	rl, ok := prov.Provider.(idp.RedirectLogin)
	if !ok {
		s.refuse(c, f, k, core.Errorf(http.StatusBadRequest, core.CodeUnknownProvider, "This identity provider does not use redirects."))
		return
	}
	ident, err := rl.Exchange(c.Request.Context(), code, idp.Flow{State: q.Get("state"), Nonce: f.Nonce, PKCEVerifier: f.Verifier, RedirectURL: s.RedirectURL()})
	if err != nil {
		s.refuse(c, f, k, core.FromIdP(err))
		return
	}
	k.Complete(c, f, pool, prov, ident)
}

func sanitizeIdPError(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, code)
}

// loginAction is the address of a pool's sign-in form.
func loginAction(pool *core.Pool, prov *core.Provider) string {
	return "/login/" + url.PathEscape(pool.Cfg.Name) + "/" + url.PathEscape(prov.Cfg.ID)
}
