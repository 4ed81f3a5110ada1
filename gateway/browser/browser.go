package browser

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/signin"
	"fedgate/gateway/store"
	"fedgate/idp"
)

const (
	kindSession       = "browser-session"
	kindConsoleTicket = "console-ticket" // credentials page -> console button
	sessCookie        = "fedgate-session"
)

// Browser serves people at a browser: the start page, the role picker,
// the credentials page and its console button.
type Browser struct {
	core    *core.Core
	kit     *httpkit.Kit
	cfg     *config.File
	log     *slog.Logger
	now     func() time.Time
	console exchange.ConsoleSignIn
}

// New builds the browser surface and registers, with the sign-in service,
// how a sign-in started from the start page ends.
func New(c *core.Core, kit *httpkit.Kit, in *signin.Service, upstream *http.Client) *Browser {
	cfg := c.Config()
	b := &Browser{
		core: c, kit: kit, cfg: cfg, log: c.Logger(), now: c.Now,
		console: exchange.ConsoleSignIn{Endpoint: cfg.Console.FederationURL, HTTP: upstream},
	}
	in.Register(signin.KindBrowser, signin.Continuation{
		Complete: func(c *gin.Context, _ *signin.Flow, pool *core.Pool, prov *core.Provider, ident *idp.Identity) {
			b.completeSignIn(c, &core.Principal{Pool: pool, Provider: prov, Ident: ident})
		},
	})
	return b
}

// Mount adds the browser pages; picking a role is a credential request and
// is audited.
func (s *Browser) Mount(r *gin.Engine) {
	r.GET("/", s.index)
	r.POST("/roles", s.kit.AuditRefusals(store.AuditVend), s.pickRole)
	r.POST("/console", s.consoleButton)
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
	Providers                    []signin.ProviderLink
}

func (s *Browser) index(c *gin.Context) {
	data := indexPage{Page: httpkit.Page{Title: "Sign in", RequestID: httpkit.RequestID(c)}}
	for _, p := range s.core.Snapshot().Ordered {
		pv := poolView{ID: p.Cfg.ID, DisplayName: p.Cfg.DisplayName, MaxDuration: httpkit.HumanDuration(time.Duration(p.Cfg.DurationSeconds) * time.Second)}
		for _, lp := range p.Providers {
			pv.Providers = append(pv.Providers, signin.ProviderLink{
				DisplayName: lp.DisplayName(),
				URL:         "/login/" + url.PathEscape(p.Cfg.Name) + "/" + url.PathEscape(lp.Cfg.ID),
				Demo:        idp.IsDemo(lp.Provider),
			})
		}
		data.Pools = append(data.Pools, pv)
	}
	s.kit.Render(c, http.StatusOK, "index", data, false)
}

// completeSignIn applies the rules: one role vends at once, several open
// the picker, none is a clear refusal.
func (s *Browser) completeSignIn(c *gin.Context, p *core.Principal) {
	d := p.Entitlements()
	switch len(d.Grants) {
	case 0:
		core.LogFrom(c.Request.Context(), s.log).Info("no rule matched", "pool", p.Pool.Cfg.ID, "provider", p.Provider.Cfg.ID, "subject", p.Ident.Subject)
		e := core.NoRoleError(p)
		s.core.AuditRefusal(c.Request.Context(), p, "", e)
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
		data := rolesPage{Page: httpkit.Page{Title: "Choose a role", RequestID: httpkit.RequestID(c)}, Subject: p.DisplayName(), Provider: p.Provider.DisplayName(), Pool: p.Pool.Cfg.DisplayName, CSRF: sess.CSRF}
		for _, g := range d.Grants {
			data.Roles = append(data.Roles, roleView{ARN: g.Role, Name: core.RoleName(g.Role), Rule: g.Rule})
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

// pickRole vends the role chosen on the picker.
func (s *Browser) pickRole(c *gin.Context) {
	if !s.kit.PostedForm(c) {
		return
	}
	expired := core.Errorf(http.StatusUnauthorized, core.CodeSessionExpired, "Your sign-in has expired. Sign in again.")
	var sess browserSession
	if e := s.core.LookupSealed(c.Request.Context(), kindSession, s.kit.Cookie(c, sessCookie), &sess, expired); e != nil {
		s.kit.Fail(c, e)
		return
	}
	if !httpkit.EqualSecret(c.PostForm("csrf"), sess.CSRF) {
		s.kit.Fail(c, httpkit.WrongFormToken())
		return
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: sess.Pool, Provider: sess.Provider, Subject: sess.Subject})
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
	ConsoleTicket                       string // the "Open AWS console" button
}

// showCredentials re-evaluates the rules (they may have changed since the
// picker was drawn), vends and renders the no-store credentials page.
func (s *Browser) showCredentials(c *gin.Context, p *core.Principal, roleARN string) {
	creds, id, e := s.core.Grant(c.Request.Context(), p, roleARN, 0)
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

// consoleLifetime bounds a console ticket: the page's credentials can open
// the console for this long (AWS sign-in tokens last 15 minutes too).
const consoleLifetime = 15 * time.Minute

// consoleTicket keeps the credentials the page shows, sealed, for the
// "Open AWS console" button; the ticket in the form names them. It returns
// "" (no button) when they cannot be kept.
func (s *Browser) consoleTicket(c *gin.Context, creds *exchange.Credentials) string {
	ttl := min(consoleLifetime, creds.Expiration.Sub(s.now()))
	if ttl <= 0 || creds.SessionToken == "" {
		return ""
	}
	ticket := s.kit.RandomHex(32)
	if err := s.core.PutSealed(c.Request.Context(), kindConsoleTicket, ticket, creds, ttl); err != nil {
		core.LogFrom(c.Request.Context(), s.log).Warn("console ticket not stored", "error", err.Error())
		return ""
	}
	return ticket
}

// consoleButton is POST /console: fedgate asks the federation endpoint for
// a sign-in token with the page's credentials and forwards the browser to
// the console. The ticket is a secret only the credentials page carries, so it
// also serves as the form's CSRF token.
func (s *Browser) consoleButton(c *gin.Context) {
	if !s.kit.PostedForm(c) {
		return
	}
	ticket := c.PostForm("ticket")
	expired := core.Errorf(http.StatusBadRequest, core.CodeSessionExpired, "These credentials can no longer open the console. Sign in again.")
	var creds exchange.Credentials
	if e := s.core.LookupSealed(c.Request.Context(), kindConsoleTicket, ticket, &creds, expired); e != nil {
		s.kit.Fail(c, e)
		return
	}
	loginURL, err := s.console.LoginURL(c.Request.Context(), exchange.ConsoleRequest{
		Credentials: &creds, Duration: creds.Expiration.Sub(s.now()),
		Issuer: s.cfg.Server.PublicURL + "/", Destination: s.cfg.Console.Destination,
	})
	if err != nil {
		s.kit.Fail(c, core.NewError(http.StatusBadGateway, core.CodeUpstream, "The AWS sign-in service did not answer. Try again in a moment.", err))
		return
	}
	core.LogFrom(c.Request.Context(), s.log).Info("console sign-in", "role", creds.RoleARN)
	// Not a redirect: the page's CSP (form-action 'self') would stop a form
	// post from being redirected to AWS. The Refresh header forwards the
	// browser at once; the page's link is the fallback.
	c.Header("Refresh", "0; url="+loginURL)
	s.kit.Render(c, http.StatusOK, "cli_console", consolePage{
		Page: httpkit.Page{Title: "Opening the AWS console", RequestID: httpkit.RequestID(c)}, URL: loginURL, Role: creds.RoleARN,
	}, true)
}

type consolePage struct {
	httpkit.Page
	URL, Role string
}
