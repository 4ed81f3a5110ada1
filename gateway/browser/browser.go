// Package browser serves people at a browser: the start page, the access
// portal (every role a sign-in opens, in every pool, grouped by AWS
// account), the credentials page and the console button.
package browser

import (
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

// Browser serves people at a browser: the start page, the portal, the
// credentials page and its console button.
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

// Mount adds the browser pages; every route that vends is a credential
// request and is audited.
func (s *Browser) Mount(r *gin.Engine) {
	r.GET("/", s.index)
	r.GET("/portal", s.portal)
	r.POST("/portal/sign-out", s.signOut)
	r.POST("/roles", s.kit.AuditRefusals(store.AuditVend), s.pickRole)
	r.POST("/portal/console", s.kit.AuditRefusals(store.AuditVend), s.portalConsole)
	r.POST("/console", s.consoleButton)
}

type indexPage struct {
	httpkit.Page
	Pools []poolView
	// SignedInAs names the person when this browser has a portal session.
	SignedInAs string
	Notice     string
}

type poolView struct {
	ID, DisplayName, Durations string
	Providers                  []signin.ProviderLink
}

func (s *Browser) index(c *gin.Context) {
	data := indexPage{Page: httpkit.Page{Title: "Sign in", RequestID: httpkit.RequestID(c)}}
	switch c.Query("signed_out") {
	case "1":
		data.Notice = "You are signed out. Credentials you copied keep working until they expire."
	case "expired":
		data.Notice = "Your sign-in has ended. Sign in again to see your roles."
	}
	if c.Query("signed_out") == "" {
		if sess, _, e := s.session(c); e == nil {
			data.SignedInAs = sess.Name
		}
	}
	for _, p := range s.core.Snapshot().Ordered {
		pv := poolView{ID: p.Cfg.ID, DisplayName: p.Cfg.DisplayName, Durations: poolDurations(&p.Cfg)}
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

// poolDurations says how long the credentials of a pool last, before anyone
// signs in: the pool's default, and the longest a rule of it gives when a
// rule gives more.
func poolDurations(p *config.Pool) string {
	def := time.Duration(p.DurationSeconds) * time.Second
	shortest, longest := def, def
	for _, r := range p.Rules {
		if r.DurationSeconds == 0 {
			continue
		}
		d := time.Duration(r.DurationSeconds) * time.Second
		shortest, longest = min(shortest, d), max(longest, d)
	}
	if shortest == longest {
		return "credentials for up to " + httpkit.HumanDuration(longest)
	}
	return "credentials for " + httpkit.HumanDuration(shortest) + " to " + httpkit.HumanDuration(longest) + ", depending on the role"
}
