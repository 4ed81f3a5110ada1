// Package signin is browser sign-in through an upstream identity provider:
// the flow (state, nonce, PKCE and a cookie binding it to one browser),
// the redirect to an OIDC provider and its callback, the password form of
// the demo provider, and the SAML AuthnRequest and assertion consumer
// service. What a sign-in ends in is not its business: each surface
// registers a Continuation for its kind of flow (credentials in the
// browser, a CLI grant, an admin session) and gets the verified identity.
package signin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
	"fedgate/idp"
)

const (
	kindFlow     = "login-flow"
	flowCookie   = "fedgate-flow"
	flowLifetime = 10 * time.Minute
	maxFormField = 4096
	// flowCookieStateChars is how much of the state names a flow's binding
	// cookie: one cookie per flow, so sign-ins in two tabs (or a user and
	// an admin sign-in) do not overwrite each other's binding.
	flowCookieStateChars = 16
)

// Flow is one browser sign-in in progress, stored sealed under its state so
// that a state works once and only in the browser that began it.
type Flow struct {
	// Kind names the Continuation that finishes the sign-in.
	Kind string `json:",omitempty"`
	// Pool is empty for kinds that sign in to no pool (admin).
	Pool, Provider, Nonce, Verifier, BindingHash string
	// SAMLRequestID is the AuthnRequest ID the response must answer.
	SAMLRequestID string `json:",omitempty"`
	// Data is the continuation's own state (for example a CLI grant).
	Data json.RawMessage `json:",omitempty"`
}

// Continuation finishes the sign-ins of one kind.
type Continuation struct {
	// Target resolves the pool (nil for kinds without one) and provider of
	// a flow when the IdP answers; the configuration may have changed since
	// it began. Nil: the flow's pool and provider in the live snapshot.
	Target func(f *Flow) (*core.Pool, *core.Provider, *core.Error)
	// PasswordForm shows a password provider's form for a new flow. Nil:
	// the pool sign-in form at /login/:pool/:provider.
	PasswordForm func(c *gin.Context, status int, pool *core.Pool, prov *core.Provider, state, message, username string)
	// Complete finishes a verified sign-in.
	Complete func(c *gin.Context, f *Flow, pool *core.Pool, prov *core.Provider, ident *idp.Identity)
	// Refused, when set, answers a resumed flow whose sign-in was refused
	// (the IdP's error, an answer that does not verify) its own way and
	// returns true; false leaves the answer to the refusal page.
	Refused func(c *gin.Context, f *Flow, e *core.Error) bool
	// NoSAML, when set, refuses sign-ins through a SAML provider with this message.
	NoSAML string
	// AuditKind is the audit kind of a refused sign-in (store.AuditVend when empty).
	AuditKind string
}

// KindBrowser is the kind of flows started from the start page; a SAML
// sign-in started at the IdP ends there too.
const KindBrowser = "browser"

// Service runs browser sign-ins.
type Service struct {
	core  *core.Core
	kit   *httpkit.Kit
	kinds map[string]Continuation
	// flows budgets the sign-ins a source address starts: each stores a
	// flow before anyone has signed in.
	flows *httpkit.RateLimiter
}

// New builds the sign-in service; surfaces register their continuations
// before the routes are mounted.
func New(c *core.Core, kit *httpkit.Kit) *Service {
	srv := c.Config().Server
	return &Service{core: c, kit: kit, kinds: map[string]Continuation{},
		flows: httpkit.NewRateLimiter(srv.SignInRatePerAddress, srv.SignInBurstPerAddress, c.Now)}
}

// Register makes k finish the flows of kind.
func (s *Service) Register(kind string, k Continuation) {
	if k.Target == nil {
		k.Target = s.poolTarget
	}
	if k.PasswordForm == nil {
		k.PasswordForm = s.renderLogin
	}
	s.kinds[kind] = k
}

// Mount adds the sign-in routes; a refused sign-in is audited.
func (s *Service) Mount(r *gin.Engine) {
	r.GET("/login/:pool/:provider", s.startLogin)
	r.POST("/login/:pool/:provider", s.kit.AuditRefusals(store.AuditVend), s.passwordLogin)
	r.GET("/callback", s.kit.AuditRefusals(store.AuditVend), s.callback)
	r.POST("/saml/acs/:provider", s.kit.AuditRefusals(store.AuditVend), s.samlACS)
	r.GET("/saml/metadata/:provider", s.samlSPMetadata)
}

// RedirectURL is where OIDC providers send the browser back.
func (s *Service) RedirectURL() string { return s.core.Config().Server.PublicURL + "/callback" }

func (s *Service) continuation(f *Flow) (Continuation, *core.Error) {
	kind := f.Kind
	if kind == "" {
		kind = KindBrowser
	}
	k, ok := s.kinds[kind]
	if !ok {
		e := core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "This sign-in can no longer be finished. Start again.")
		e.Cause = fmt.Errorf("no continuation for flows of kind %q", kind)
		return Continuation{}, e
	}
	return k, nil
}

// noteFlow tells the audit trail whose sign-in this is.
func (s *Service) noteFlow(c *gin.Context, f *Flow, k Continuation) {
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: f.Pool, Provider: f.Provider, Kind: k.AuditKind})
}

// Begin stores a new flow of kind and binds it to this browser with a
// cookie. pool is nil for kinds without one; data is the continuation's.
func (s *Service) Begin(c *gin.Context, kind string, pool *core.Pool, prov *core.Provider, data any) (string, *Flow, error) {
	binding := s.kit.RandomHex(32)
	state := s.kit.RandomHex(32)
	f := &Flow{Kind: kind, Provider: prov.Cfg.ID, Nonce: s.kit.RandomHex(24), Verifier: s.kit.RandomHex(32), BindingHash: httpkit.Digest(binding)}
	if pool != nil {
		f.Pool = pool.Cfg.ID
	}
	if data != nil {
		raw, err := json.Marshal(data)
		if err != nil {
			return "", nil, err
		}
		f.Data = raw
	}
	if err := s.core.PutSealed(c.Request.Context(), kindFlow, state, f, flowLifetime); err != nil {
		return "", nil, err
	}
	s.kit.SetCookie(c, FlowCookieName(state), binding, int(flowLifetime.Seconds()))
	return state, f, nil
}

// Send begins a flow and sends the browser to the provider's sign-in: a
// redirect (OIDC), the password form (demo provider) or an AuthnRequest
// (SAML).
func (s *Service) Send(c *gin.Context, kind string, pool *core.Pool, prov *core.Provider, data any) {
	k, ok := s.kinds[kind]
	if !ok {
		s.kit.Fail(c, core.Internal(fmt.Errorf("no continuation for flows of kind %q", kind)))
		return
	}
	if _, isSAML := prov.Provider.(idp.AssertionLogin); isSAML && k.NoSAML != "" {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeUnknownProvider, "This identity provider cannot be used for browser sign-in."))
		return
	}
	if ok, wait := s.flows.Take(httpkit.SourceKey(c.ClientIP())); !ok {
		s.kit.Fail(c, httpkit.OverBudget(c, wait, "Too many sign-ins were started from your address."))
		return
	}
	state, f, err := s.Begin(c, kind, pool, prov, data)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	switch p := prov.Provider.(type) {
	case idp.RedirectLogin:
		s.redirectToIdP(c, p, state, f)
	case idp.PasswordLogin:
		k.PasswordForm(c, http.StatusOK, pool, prov, state, "", "")
	case idp.AssertionLogin:
		s.startSAMLLogin(c, p, state)
	default:
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeUnknownProvider, "This identity provider cannot be used for browser sign-in."))
	}
}

// resume takes the flow a provider's answer names, with the continuation
// of its kind; false when it answered the refusal.
func (s *Service) resume(c *gin.Context, state string) (*Flow, Continuation, bool) {
	f, e := s.takeFlow(c, state)
	if e == nil {
		var k Continuation
		if k, e = s.continuation(f); e == nil {
			return f, k, true
		}
	}
	s.kit.Fail(c, e)
	return nil, Continuation{}, false
}

// refuse answers a refused sign-in of a resumed flow: through its
// continuation when that takes it (the CLI's listener then hears why),
// else with the refusal page. Either way the refusal is audited.
func (s *Service) refuse(c *gin.Context, f *Flow, k Continuation, e *core.Error) {
	if k.Refused != nil {
		core.NoteRefusal(c.Request.Context(), e)
		if k.Refused(c, f, e) {
			return
		}
	}
	s.kit.Fail(c, e)
}

// takeFlow consumes a flow: a state works once, before it expires, and
// only with the cookie of the browser that started it.
func (s *Service) takeFlow(c *gin.Context, state string) (*Flow, *core.Error) {
	expired := core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "This sign-in has expired or was already used. Start again from the fedgate start page.")
	if len(state) < flowCookieStateChars || len(state) > 128 {
		return nil, expired
	}
	// Check the browser binding before using the state up, so that someone
	// who only holds a callback URL cannot spoil the sign-in it belongs to.
	var f Flow
	if err := s.core.GetSealed(c.Request.Context(), kindFlow, state, &f); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, expired
		}
		return nil, core.Internal(err)
	}
	if !httpkit.EqualSecret(httpkit.Digest(s.kit.Cookie(c, FlowCookieName(state))), f.BindingHash) {
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
	s.kit.ClearCookie(c, FlowCookieName(state))
	return &f, nil
}

// FlowCookieName is the name of the cookie binding the flow of state to
// the browser that began it.
func FlowCookieName(state string) string {
	return flowCookie + "-" + state[:min(len(state), flowCookieStateChars)]
}

// poolTarget is the flow's pool and provider in the live snapshot.
func (s *Service) poolTarget(f *Flow) (*core.Pool, *core.Provider, *core.Error) {
	pool := s.core.Snapshot().Pools[f.Pool]
	if pool == nil || pool.Provider(f.Provider) == nil {
		return nil, nil, core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "The pool or provider of this sign-in has changed. Start again.")
	}
	return pool, pool.Provider(f.Provider), nil
}

// ProviderLink is a "sign in with" link on a page.
type ProviderLink struct {
	DisplayName, URL string
	Demo             bool
}
