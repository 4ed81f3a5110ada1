package cli

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
)

// loopbackCode is what a loopback one-time code stands for.
type loopbackCode struct {
	Draft       draft
	Challenge   string
	RedirectURI string
}

// authorize starts `fedgate login`'s loopback sign-in:
// GET /cli/authorize?pool&provider&redirect_uri&state&code_challenge&code_challenge_method=S256.
// Problems are shown on a page: nothing is ever redirected to an address
// that is not a loopback one.
func (s *CLI) authorize(c *gin.Context) {
	q := c.Request.URL.Query()
	redirect, ok := parseLoopbackRedirect(q.Get("redirect_uri"))
	if !ok {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, CodeInvalidRedirect,
			"fedgate sends CLI sign-ins back only to this computer: redirect_uri must be http://127.0.0.1:PORT/… or http://[::1]:PORT/…. Start again with fedgate login."))
		return
	}
	switch {
	case q.Get("code_challenge_method") != "S256" || !pkceChallengePattern.MatchString(q.Get("code_challenge")):
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "This sign-in needs a PKCE code_challenge with code_challenge_method=S256. Start again with fedgate login."))
		return
	case !statePattern.MatchString(q.Get("state")):
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "This sign-in needs a state of 8-256 URL-safe characters. Start again with fedgate login."))
		return
	}
	pool, prov, e := s.target(q.Get("pool"), q.Get("provider"))
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.signin.Send(c, kindSignIn, pool, prov, &flow{
		RedirectURI: redirect.String(), State: q.Get("state"), Challenge: q.Get("code_challenge"),
		Client: cleanClientName(q.Get("client_name")),
	})
}

// completeSignIn ends a browser sign-in that a CLI started: the loopback
// one redirects to the CLI with a one-time code, the device one asks the
// person to approve the device.
func (s *CLI) completeSignIn(c *gin.Context, f *flow, p *core.Principal) {
	if len(p.Entitlements().Grants) == 0 {
		core.LogFrom(c.Request.Context(), s.log).Info("no rule matched (CLI sign-in)", "pool", p.Pool.Cfg.ID, "provider", p.Provider.Cfg.ID, "subject", p.Ident.Subject)
		e := core.NoRoleError(p)
		s.core.AuditRefusal(c.Request.Context(), p, "", e) // recorded here: a refusal sent back to the CLI is a redirect, not a failed request
		if s.refuse(c, f, e) {
			return // the browser goes back to the CLI, which shows the refusal
		}
		s.kit.Fail(c, e)
		return
	}
	method := "loopback"
	if f.DeviceCode != "" {
		method = "device"
	}
	d, e := s.newDraft(p, method, f.Client)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	if f.DeviceCode != "" {
		s.showDeviceApproval(c, f, p, d)
		return
	}
	redirect, ok := parseLoopbackRedirect(f.RedirectURI)
	if !ok { // checked at the start; kept as a guard
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, CodeInvalidRedirect, "This sign-in has no loopback address to return to."))
		return
	}
	code := s.kit.RandomHex(32)
	if err := s.core.PutSealed(c.Request.Context(), kindLoopbackCode, code, loopbackCode{Draft: d, Challenge: f.Challenge, RedirectURI: f.RedirectURI}, codeLifetime); err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	core.LogFrom(c.Request.Context(), s.log).Info("CLI sign-in completed", "method", method, "pool", p.Pool.Cfg.ID, "provider", p.Provider.Cfg.ID, "subject", p.Ident.Subject)
	s.returnToCLI(c, withQuery(redirect, url.Values{"code": {code}, "state": {f.State}}), nil)
}

type returnPage struct {
	httpkit.Page
	URL, Message string
	Refused      bool
}

// returnToCLI sends the browser back to the CLI's loopback listener. After
// a GET (an OIDC callback) that is a redirect. After a form post (the demo
// provider's password form, a SAML HTTP-POST answer) it is a page that
// navigates by GET: browsers apply the posting page's CSP form-action
// 'self' to a redirect that follows a post, and would stop it short of
// 127.0.0.1. The Refresh header moves on at once; the link is the fallback.
func (s *CLI) returnToCLI(c *gin.Context, to string, refusal *core.Error) {
	httpkit.NoCache(c)
	if c.Request.Method == http.MethodGet {
		c.Redirect(http.StatusFound, to)
		return
	}
	page := returnPage{Page: httpkit.Page{Title: "Returning to the fedgate CLI", RequestID: httpkit.RequestID(c)}, URL: to}
	if refusal != nil {
		page.Title, page.Message, page.Refused = "Sign-in refused", refusal.Message, true
	}
	// 200 even for a refusal: the page only hands the answer on to the CLI,
	// which shows it (the refusal is audited by the caller).
	c.Header("Refresh", "0; url="+to)
	s.kit.Render(c, http.StatusOK, "cli_return", page, true)
}

// refuse tells a waiting `fedgate login` that the sign-in was refused,
// so it stops at once instead of waiting out its timeout: a device flow's
// next poll answers access_denied; a loopback flow's browser is sent back
// to the CLI with error=access_denied (RFC 6749 4.1.2.1), which shows the
// refusal and ends the command.
func (s *CLI) refuse(c *gin.Context, f *flow, e *core.Error) (redirected bool) {
	ctx := c.Request.Context()
	if f.DeviceCode != "" {
		var dev device
		if err := s.core.GetSealed(ctx, kindDevice, f.DeviceCode, &dev); err == nil && s.now().Before(time.Unix(dev.ExpiresAt, 0)) {
			ttl := time.Unix(dev.ExpiresAt, 0).Add(deviceGrace).Sub(s.now())
			if err := s.core.PutSealed(ctx, kindDeviceResult, f.DeviceCode, deviceResult{Approved: false, Refusal: e.Message}, ttl); err != nil && !errors.Is(err, store.ErrConflict) {
				core.LogFrom(ctx, s.log).Error("recording a refused device sign-in failed", "error", err)
			}
		}
		return false
	}
	redirect, ok := parseLoopbackRedirect(f.RedirectURI)
	if !ok {
		return false
	}
	s.returnToCLI(c, withQuery(redirect, url.Values{"error": {"access_denied"}, "error_description": {e.Message}, "state": {f.State}}), e)
	return true
}

// newDraft captures a verified sign-in for a CLI session. Claims are
// re-evaluated against the rules at every vend, so rule changes apply.
func (s *CLI) newDraft(p *core.Principal, method, client string) (draft, *core.Error) {
	d := draft{Pool: p.Pool.Cfg.ID, Provider: p.Provider.Cfg.ID, Subject: p.Ident.Subject, Claims: p.Ident.Claims, Method: method, Client: client}
	if p.Pool.Spec.Forwards == exchange.ForwardIDToken {
		exp, ok := claimUnix(p.Ident.Claims["exp"])
		if p.Ident.RawToken == "" || !ok {
			return d, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "This pool forwards the identity provider's token to AWS, and this sign-in has none to keep for the CLI.")
		}
		d.RawToken, d.TokenExpiry = p.Ident.RawToken, exp
	}
	return d, nil
}

func claimUnix(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

// redeemCode turns a loopback code into a session: the code works once,
// before it expires, with the verifier whose S256 is its challenge and the
// redirect URI it was issued for.
func (s *CLI) redeemCode(c *gin.Context, in map[string]string) (*draft, *oauthError) {
	code, verifier := in["code"], in["code_verifier"]
	if code == "" || len(code) > 128 || !pkceVerifierPattern.MatchString(verifier) {
		return nil, &oauthError{Code: "invalid_request", Description: "code and a PKCE code_verifier (43-128 characters) are required."}
	}
	var cc loopbackCode
	if err := s.core.TakeSealed(c.Request.Context(), kindLoopbackCode, code, &cc); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, &oauthError{Code: "invalid_grant", Description: "The code is unknown, expired or already used. Run fedgate login again."}
		}
		return nil, &oauthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "Something went wrong on our side.", Cause: err}
	}
	if in["redirect_uri"] != cc.RedirectURI {
		return nil, &oauthError{Code: "invalid_grant", Description: "redirect_uri differs from the one the code was issued for."}
	}
	if !httpkit.EqualSecret(pkceS256(verifier), cc.Challenge) {
		return nil, &oauthError{Code: "invalid_grant", Description: "The code_verifier does not match the code_challenge."}
	}
	return &cc.Draft, nil
}

// sessionExpiry is when a new session ends: the configured lifetime,
// or earlier when it holds an upstream token that expires first.
func (s *CLI) sessionExpiry(d *draft) time.Time {
	exp := s.now().Add(s.cfg.CLI.SessionTTL.D())
	if d.TokenExpiry != 0 {
		if t := time.Unix(d.TokenExpiry, 0); t.Before(exp) {
			exp = t
		}
	}
	return exp
}
