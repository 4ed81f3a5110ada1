package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
	"fedgate/idp"
)

const (
	kindFlow     = "login-flow"
	kindSession  = "browser-session"
	flowCookie   = "fedgate-flow"
	sessCookie   = "fedgate-session"
	flowLifetime = 10 * time.Minute
	maxFormField = 4096
)

// loginFlow is one browser sign-in in progress, stored server-side under
// its state so a state works once and only in the browser that began it.
type loginFlow struct {
	Pool, Provider, Nonce, Verifier, BindingHash string
	// Admin marks a flow that ends in an admin session (issue 6), not credentials.
	Admin bool `json:",omitempty"`
	// CLI is set when the sign-in ends in a CLI grant (issue 5), not on
	// the credentials page.
	CLI *cliFlow `json:",omitempty"`
	// SAMLRequestID is the AuthnRequest ID the response must answer (issue 3).
	SAMLRequestID string `json:",omitempty"`
}

// browserSession remembers a signed-in person on the role picker.
type browserSession struct {
	Pool, Provider, Subject string
	Claims                  map[string]any
	RawToken                string
	CSRF                    string
}

type indexPage struct {
	httpkit.Page
	Pools []poolView
}

type poolView struct {
	ID, DisplayName, MaxDuration string
	Providers                    []providerView
}

type providerView struct {
	DisplayName, URL string
	Demo             bool
}

func (s *Server) index(c *gin.Context) {
	data := indexPage{Page: httpkit.Page{Title: "Sign in", RequestID: httpkit.RequestID(c)}}
	for _, p := range s.core.Snapshot().Ordered {
		pv := poolView{ID: p.Cfg.ID, DisplayName: p.Cfg.DisplayName, MaxDuration: httpkit.HumanDuration(time.Duration(p.Cfg.DurationSeconds) * time.Second)}
		for _, lp := range p.Providers {
			pv.Providers = append(pv.Providers, providerView{
				DisplayName: lp.DisplayName(),
				URL:         "/login/" + url.PathEscape(p.Cfg.Name) + "/" + url.PathEscape(lp.Cfg.ID),
				Demo:        lp.Cfg.Type == "static",
			})
		}
		data.Pools = append(data.Pools, pv)
	}
	s.kit.Render(c, http.StatusOK, "index", data, false)
}

// target resolves the pool and provider named in the path.
func (s *Server) target(c *gin.Context) (*core.Pool, *core.Provider, *core.Error) {
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

// beginFlow stores a new flow and binds it to this browser with a cookie.
func (s *Server) beginFlow(c *gin.Context, pool *core.Pool, prov *core.Provider, cli *cliFlow) (state string, f loginFlow, err error) {
	binding := s.kit.RandomHex(32)
	state = s.kit.RandomHex(32)
	f = loginFlow{Pool: pool.Cfg.ID, Provider: prov.Cfg.ID, Nonce: s.kit.RandomHex(24), Verifier: s.kit.RandomHex(32), BindingHash: httpkit.Digest(binding), CLI: cli}
	if err := s.core.PutSealed(c.Request.Context(), kindFlow, state, f, flowLifetime); err != nil {
		return "", f, err
	}
	s.kit.SetCookie(c, flowCookieName(state), binding, int(flowLifetime.Seconds()))
	return state, f, nil
}

// redirectToIdP sends the browser to an OIDC provider's authorization
// endpoint with the flow's state, nonce and PKCE challenge.
func (s *Server) redirectToIdP(c *gin.Context, p idp.RedirectLogin, state string, f loginFlow) {
	if r, ok := p.(readiness); ok {
		if err := r.Ready(c.Request.Context()); err != nil {
			s.kit.Fail(c, core.FromIdP(err))
			return
		}
	}
	authURL := p.AuthCodeURL(idp.Flow{State: state, Nonce: f.Nonce, PKCEVerifier: f.Verifier, RedirectURL: s.redirectURL()})
	if authURL == "" {
		s.kit.Fail(c, core.FromIdP(idp.ErrUpstream))
		return
	}
	httpkit.NoCache(c)
	c.Redirect(http.StatusFound, authURL)
}

// readiness is implemented by providers that discover their upstream
// lazily; it tells why an IdP cannot be used right now.
type readiness interface {
	Ready(ctx context.Context) error
}

func (s *Server) redirectURL() string { return s.cfg.Server.PublicURL + "/callback" }

func (s *Server) startLogin(c *gin.Context) {
	pool, prov, e := s.target(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.sendToIdP(c, pool, prov, nil)
}

// sendToIdP begins a flow and sends the browser to the provider's sign-in.
func (s *Server) sendToIdP(c *gin.Context, pool *core.Pool, prov *core.Provider, cli *cliFlow) {
	state, f, err := s.beginFlow(c, pool, prov, cli)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	switch p := prov.Provider.(type) {
	case idp.RedirectLogin:
		s.redirectToIdP(c, p, state, f)
	case idp.PasswordLogin:
		s.renderLogin(c, http.StatusOK, pool, prov, state, "", "")
	case idp.AssertionLogin: // saml (issue 3)
		s.startSAMLLogin(c, p, state)
	default:
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeUnknownProvider, "This identity provider cannot be used for browser sign-in."))
	}
}

type loginPage struct {
	httpkit.Page
	Provider, Pool, Action, State, Error, Username string
	Demo                                           bool
}

func (s *Server) renderLogin(c *gin.Context, status int, pool *core.Pool, prov *core.Provider, state, msg, username string) {
	s.kit.Render(c, status, "login", loginPage{
		Page:     httpkit.Page{Title: "Sign in", RequestID: httpkit.RequestID(c)},
		Provider: prov.DisplayName(), Pool: pool.Cfg.DisplayName,
		Action: "/login/" + url.PathEscape(pool.Cfg.Name) + "/" + url.PathEscape(prov.Cfg.ID),
		State:  state, Error: msg, Username: username, Demo: prov.Cfg.Type == "static",
	}, true)
}

// takeFlow consumes a flow: a state works once, before it expires, and
// only with the cookie of the browser that started it.
func (s *Server) takeFlow(c *gin.Context, state string) (*loginFlow, *core.Error) {
	expired := core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "This sign-in has expired or was already used. Start again from the fedgate start page.")
	if len(state) < flowCookieStateChars || len(state) > 128 {
		return nil, expired
	}
	// Check the browser binding before using the state up, so that someone
	// who only holds a callback URL cannot spoil the sign-in it belongs to.
	var f loginFlow
	if err := s.core.GetSealed(c.Request.Context(), kindFlow, state, &f); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, expired
		}
		return nil, core.Internal(err)
	}
	if !httpkit.EqualSecret(httpkit.Digest(s.kit.Cookie(c, flowCookieName(state))), f.BindingHash) {
		e := core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "This sign-in was started in another browser. Start again from the fedgate start page.")
		e.Cause = errors.New("flow binding cookie missing or wrong")
		return nil, e
	}
	if err := s.core.TakeSealed(c.Request.Context(), kindFlow, state, &f); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, expired // a concurrent request used it first
		}
		return nil, core.Internal(err)
	}
	s.kit.ClearCookie(c, flowCookieName(state))
	return &f, nil
}

// flowCookieStateChars is how much of the state names a flow's binding
// cookie: one cookie per flow, so sign-ins in two tabs (or a user and an
// admin sign-in) do not overwrite each other's binding.
const flowCookieStateChars = 16

func flowCookieName(state string) string {
	return flowCookie + "-" + state[:min(len(state), flowCookieStateChars)]
}

func (s *Server) flowTarget(f *loginFlow) (*core.Pool, *core.Provider, *core.Error) {
	snap := s.core.Snapshot()
	pool := snap.Pools[f.Pool]
	if pool == nil || pool.Provider(f.Provider) == nil {
		return nil, nil, core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "The pool or provider of this sign-in has changed. Start again.")
	}
	return pool, pool.Provider(f.Provider), nil
}

// callback is where the upstream IdP sends the browser back.
func (s *Server) callback(c *gin.Context) {
	q := c.Request.URL.Query()
	f, e := s.takeFlow(c, q.Get("state"))
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: f.Pool, Provider: f.Provider, AdminSignIn: f.Admin}) // audit_refusals.go
	if errCode := q.Get("error"); errCode != "" {
		e := core.Errorf(http.StatusUnauthorized, core.CodeUnauthorized, "The identity provider did not sign you in (%s).", core.Truncate(sanitizeIdPError(errCode), 64))
		s.kit.Fail(c, e)
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The identity provider's answer has no authorization code. Start again."))
		return
	}
	if f.Admin { // admin (issue 6)
		s.adminCallback(c, f, code, q.Get("state"))
		return
	}
	pool, prov, e := s.flowTarget(f)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	// RFC 9207: an IdP that names itself in the answer must be the one this
	// flow went to, or a hostile IdP could pass another IdP's code (and
	// this flow's PKCE verifier) through its own token endpoint.
	if iss := q.Get("iss"); iss != "" && strings.TrimRight(iss, "/") != strings.TrimRight(prov.Cfg.Issuer, "/") {
		e := core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The answer came from another identity provider than the one this sign-in went to. Start again.")
		e.Cause = errors.New("authorization response iss does not match the flow's provider")
		s.kit.Fail(c, e)
		return
	}
	rl, ok := prov.Provider.(idp.RedirectLogin)
	if !ok {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeUnknownProvider, "This identity provider does not use redirects."))
		return
	}
	ident, err := rl.Exchange(c.Request.Context(), code, idp.Flow{State: q.Get("state"), Nonce: f.Nonce, PKCEVerifier: f.Verifier, RedirectURL: s.redirectURL()})
	if err != nil {
		s.kit.Fail(c, core.FromIdP(err))
		return
	}
	if f.CLI != nil { // cli (issue 5)
		s.completeCLISignIn(c, f.CLI, &core.Principal{Pool: pool, Provider: prov, Ident: ident})
		return
	}
	s.completeSignIn(c, &core.Principal{Pool: pool, Provider: prov, Ident: ident})
}

func sanitizeIdPError(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, code)
}

// passwordLogin checks the demo provider's form.
func (s *Server) passwordLogin(c *gin.Context) {
	pool, prov, e := s.target(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: pool.Cfg.ID, Provider: prov.Cfg.ID}) // audit_refusals.go
	form := s.checkPasswordForm(c, prov, func(f *loginFlow) bool { return !f.Admin && f.Pool == pool.Cfg.ID && f.Provider == prov.Cfg.ID })
	if form == nil {
		return
	}
	f, ident := form.flow, form.ident
	if ident == nil {
		state, _, ferr := s.beginFlow(c, pool, prov, f.CLI)
		if ferr != nil {
			s.kit.Fail(c, core.Internal(ferr))
			return
		}
		s.renderLogin(c, http.StatusUnauthorized, pool, prov, state, form.refusal.Message, form.username)
		return
	}
	if f.CLI != nil { // cli (issue 5)
		s.completeCLISignIn(c, f.CLI, &core.Principal{Pool: pool, Provider: prov, Ident: ident})
		return
	}
	s.completeSignIn(c, &core.Principal{Pool: pool, Provider: prov, Ident: ident})
}

// passwordForm is a posted demo-provider form after its checks.
type passwordForm struct {
	flow     *loginFlow
	ident    *idp.Identity // nil: wrong username or password
	username string
	refusal  *core.Error // why ident is nil
}

// checkPasswordForm takes a posted password form as far as the password:
// same origin, a live flow of this browser that belongs here, a provider
// that takes passwords, sane field sizes. On anything but a wrong password
// it fails the request itself and returns nil; a wrong password comes back
// (logged and noted for the audit) so the caller can show the form again.
func (s *Server) checkPasswordForm(c *gin.Context, prov *core.Provider, belongs func(*loginFlow) bool) *passwordForm {
	if !s.kit.SameOrigin(c) {
		s.kit.Fail(c, core.Errorf(http.StatusForbidden, core.CodeCSRF, "This form was posted from another site."))
		return nil
	}
	if err := c.Request.ParseForm(); err != nil {
		s.kit.Fail(c, httpkit.FormError(err))
		return nil
	}
	f, e := s.takeFlow(c, c.PostForm("state"))
	if e != nil {
		s.kit.Fail(c, e)
		return nil
	}
	if !belongs(f) {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "This sign-in belongs to another pool or provider. Start again."))
		return nil
	}
	pl, ok := prov.Provider.(idp.PasswordLogin)
	if !ok {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeUnknownProvider, "This identity provider does not take passwords."))
		return nil
	}
	username, password := c.PostForm("username"), c.PostForm("password")
	if len(username) > maxFormField || len(password) > maxFormField {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "Username or password is too long."))
		return nil
	}
	ident, err := pl.Authenticate(c.Request.Context(), username, password)
	if err != nil {
		core.LogFrom(c.Request.Context(), s.log).Warn("password sign-in refused", "provider", prov.Cfg.ID, "admin", f.Admin, "cause", err.Error())
		refusal := core.FromIdP(err)
		core.NoteAudit(c.Request.Context(), core.AuditNote{Provider: prov.Cfg.ID})
		core.NoteRefusal(c.Request.Context(), refusal) // audit_refusals.go: the form is shown again, not fail()
		return &passwordForm{flow: f, username: username, refusal: refusal}
	}
	return &passwordForm{flow: f, ident: ident, username: username}
}

// completeSignIn applies the rules: one role vends at once, several open
// the picker, none is a clear refusal.
func (s *Server) completeSignIn(c *gin.Context, p *core.Principal) {
	d := p.Entitlements()
	switch len(d.Grants) {
	case 0:
		core.LogFrom(c.Request.Context(), s.log).Info("no rule matched", "pool", p.Pool.Cfg.ID, "provider", p.Provider.Cfg.ID, "subject", p.Ident.Subject)
		e := core.NoRoleError(p)
		s.core.AuditRefusal(c.Request.Context(), p, "", e) // admin (issue 6)
		s.kit.Fail(c, e)
	case 1:
		s.showCredentials(c, p, d.Grants[0].Role)
	default:
		sess := browserSession{Pool: p.Pool.Cfg.ID, Provider: p.Provider.Cfg.ID, Subject: p.Ident.Subject, Claims: p.Ident.Claims, RawToken: p.Ident.RawToken, CSRF: s.kit.RandomHex(24)}
		id := s.kit.RandomHex(32)
		if err := s.core.PutSealed(c.Request.Context(), kindSession, id, sess, s.cfg.Server.SessionTTL.D()); err != nil {
			s.kit.Fail(c, core.Internal(err))
			return
		}
		s.kit.SetCookie(c, sessCookie, id, int(s.cfg.Server.SessionTTL.D().Seconds()))
		data := rolesPage{Page: httpkit.Page{Title: "Choose a role", RequestID: httpkit.RequestID(c)}, Subject: displaySubject(p), Provider: p.Provider.DisplayName(), Pool: p.Pool.Cfg.DisplayName, CSRF: sess.CSRF}
		for _, g := range d.Grants {
			data.Roles = append(data.Roles, roleView{ARN: g.Role, Name: roleName(g.Role), Rule: g.Rule})
		}
		s.kit.Render(c, http.StatusOK, "roles", data, true)
	}
}

type rolesPage struct {
	httpkit.Page
	Subject, Provider, Pool, CSRF string
	Roles                         []roleView
}

type roleView struct{ ARN, Name, Rule string }

func roleName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func displaySubject(p *core.Principal) string {
	for _, k := range []string{"email", "preferred_username", "name"} {
		if v, ok := p.Ident.Claims[k].(string); ok && v != "" {
			return v
		}
	}
	return p.Ident.Subject
}

// pickRole vends the role chosen on the picker.
func (s *Server) pickRole(c *gin.Context) {
	if !s.kit.SameOrigin(c) {
		s.kit.Fail(c, core.Errorf(http.StatusForbidden, core.CodeCSRF, "This form was posted from another site."))
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		s.kit.Fail(c, httpkit.FormError(err))
		return
	}
	expired := core.Errorf(http.StatusUnauthorized, core.CodeSessionExpired, "Your sign-in has expired. Sign in again.")
	id := s.kit.Cookie(c, sessCookie)
	if id == "" || len(id) > 128 {
		s.kit.Fail(c, expired)
		return
	}
	var sess browserSession
	if err := s.core.GetSealed(c.Request.Context(), kindSession, id, &sess); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.kit.Fail(c, expired)
			return
		}
		s.kit.Fail(c, core.Internal(err))
		return
	}
	if !httpkit.EqualSecret(c.PostForm("csrf"), sess.CSRF) {
		s.kit.Fail(c, core.Errorf(http.StatusForbidden, core.CodeCSRF, "The form's security token is missing or wrong. Reload the page and try again."))
		return
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: sess.Pool, Provider: sess.Provider, Subject: sess.Subject}) // audit_refusals.go
	snap := s.core.Snapshot()
	pool := snap.Pools[sess.Pool]
	if pool == nil || pool.Provider(sess.Provider) == nil {
		s.kit.Fail(c, expired)
		return
	}
	p := &core.Principal{Pool: pool, Provider: pool.Provider(sess.Provider), Ident: &idp.Identity{Provider: sess.Provider, Subject: sess.Subject, Claims: sess.Claims, RawToken: sess.RawToken}}
	s.showCredentials(c, p, c.PostForm("role"))
}

type credentialsPage struct {
	httpkit.Page
	RoleARN, AssumedRoleARN, IdentityID string
	ExpiresISO, ExpiresHuman, ExpiresIn string
	Export, CredentialsFile, JSON       string
	CanPickAgain                        bool
	ConsoleTicket                       string // cli (issue 5): the "Open AWS console" button
}

// showCredentials re-evaluates the rules (they may have changed since the
// picker was drawn), vends and renders the no-store credentials page.
func (s *Server) showCredentials(c *gin.Context, p *core.Principal, roleARN string) {
	g, e := core.PickGrant(p, p.Entitlements(), roleARN)
	if e != nil {
		s.core.AuditRefusal(c.Request.Context(), p, roleARN, e) // admin (issue 6)
		s.kit.Fail(c, e)
		return
	}
	creds, id, e := s.core.Vend(c.Request.Context(), p, g, 0)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	js, err := json.MarshalIndent(core.WireCredentials(creds, id), "", "  ")
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	exp := creds.Expiration.UTC()
	s.kit.Render(c, http.StatusOK, "credentials", credentialsPage{
		Page:    httpkit.Page{Title: "Your AWS credentials", RequestID: httpkit.RequestID(c)},
		RoleARN: creds.RoleARN, AssumedRoleARN: creds.AssumedRoleARN, IdentityID: id,
		ExpiresISO: exp.Format(time.RFC3339), ExpiresHuman: exp.Format("2006-01-02 15:04:05 UTC"),
		ExpiresIn: httpkit.HumanDuration(exp.Sub(s.now())),
		Export:    exchange.ExportLines(creds), CredentialsFile: exchange.CredentialsFileBlock(creds, "fedgate"),
		JSON: string(js), CanPickAgain: true,
		ConsoleTicket: s.consoleTicket(c, creds),
	}, true)
}
