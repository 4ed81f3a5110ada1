// Package cli serves `fedgate login` and what the CLI calls afterwards:
// the loopback sign-in with PKCE (RFC 8252), the device authorization
// grant and its /device pages (RFC 8628), the token endpoint that turns
// either into a CLI session, and the session's JSON API (credentials,
// roles, pools, sessions).
package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/signin"
	"fedgate/gateway/store"
	"fedgate/idp"
)

// Ephemeral kinds of the CLI flows.
const (
	kindLoopbackCode    = "cli-code"            // loopback: one-time code -> draft session
	kindDevice          = "cli-device"          // device code -> its grant
	kindUserCode        = "cli-user-code"       // user code -> device code
	kindDeviceResult    = "cli-device-result"   // device code -> approval or denial
	kindDevicePoll      = "cli-device-poll"     // device code -> "polled recently"
	kindDeviceApproval  = "cli-device-approval" // approve page -> what it approves
	kindDeviceStart     = "cli-device-start"    // accepted user code -> its sign-in
	sessionAAD          = "cli-session:"
	codeLifetime        = 2 * time.Minute
	approvalLifetime    = 10 * time.Minute
	deviceStartLifetime = 5 * time.Minute
	deviceGrace         = time.Hour // a device code is remembered this long past expiry, to answer expired_token
	deviceCookie        = "fedgate-device"
	deviceCSRFLifetime  = 10 * time.Minute // the CSRF cookie of the device pages
	csrfCookie          = "fedgate-csrf"
	maxClientName       = 64
	maxField            = 512
)

// TokenPrefix starts every CLI session token, so a CLI session is told
// apart from an ID token before any lookup.
const TokenPrefix = "fgcli_"

// Error codes of the CLI surface.
const (
	CodeInvalidRedirect = "invalid_redirect_uri"
	CodeSessionInvalid  = "cli_session_invalid"
	CodeTooManyAttempts = "too_many_attempts"
)

// kindSignIn is the kind of browser sign-ins that end in a CLI grant.
const kindSignIn = "cli"

// CLI serves the fedgate CLI's endpoints and the device pages.
type CLI struct {
	core   *core.Core
	kit    *httpkit.Kit
	signin *signin.Service
	cfg    *config.File
	store  store.Store
	box    *secret.Box
	log    *slog.Logger
	now    func() time.Time
	rand   io.Reader
	// userCodeBySource limits user-code entries per source address;
	// userCodeAll bounds them across all sources, so guessing from many
	// addresses is slow too. Both are replica-local.
	userCodeBySource, userCodeAll *httpkit.RateLimiter
	// deviceBySource budgets the device codes a source address asks for:
	// each stores two entries before anyone has signed in.
	deviceBySource *httpkit.RateLimiter
}

// New builds the CLI surface and registers, with the sign-in service, how
// a browser sign-in that a CLI started ends: in a CLI grant.
func New(c *core.Core, kit *httpkit.Kit, in *signin.Service) *CLI {
	s := &CLI{
		core: c, kit: kit, signin: in, cfg: c.Config(), store: c.Store(), box: c.Box(),
		log: c.Logger(), now: c.Now, rand: c.Rand(),
		userCodeBySource: httpkit.NewRateLimiter(1.0/6, 10, c.Now), // 10 at once, then one per 6 s
		userCodeAll:      httpkit.NewRateLimiter(2, 100, c.Now),
		deviceBySource:   httpkit.NewRateLimiter(c.Config().CLI.DeviceRatePerAddress, c.Config().CLI.DeviceBurstPerAddress, c.Now),
	}
	in.Register(kindSignIn, signin.Continuation{
		Complete: func(c *gin.Context, f *signin.Flow, pool *core.Pool, prov *core.Provider, ident *idp.Identity) {
			var cf flow
			if err := json.Unmarshal(f.Data, &cf); err != nil {
				s.kit.Fail(c, core.Internal(fmt.Errorf("CLI sign-in flow: %w", err)))
				return
			}
			s.completeSignIn(c, &cf, &core.Principal{Pool: pool, Provider: prov, Ident: ident})
		},
		// A sign-in the IdP refused ends the waiting `fedgate login` too.
		Refused: func(c *gin.Context, f *signin.Flow, e *core.Error) bool {
			var cf flow
			return json.Unmarshal(f.Data, &cf) == nil && s.refuse(c, &cf, e)
		},
	})
	return s
}

// Mount adds the CLI's routes; a refused credentials request is audited.
func (s *CLI) Mount(r *gin.Engine) {
	// Browser pages.
	r.GET("/cli/authorize", s.authorize)
	r.GET("/device", s.devicePage)
	r.POST("/device", s.deviceEnter)
	r.GET("/device/start", s.deviceContinue)
	r.POST("/device/approve", s.deviceApprove)

	// The CLI's JSON API: errors are JSON whatever the Accept header says.
	api := r.Group("/cli", func(c *gin.Context) { c.Set(httpkit.CtxJSONErrors, true) })
	api.GET("/pools", s.pools)
	api.POST("/device", s.deviceAuthorization)
	api.POST("/token", s.token)
	api.POST("/credentials", s.kit.AuditRefusals(store.AuditVend), s.withSession(s.credentials))
	api.GET("/roles", s.withSession(s.roles))
	api.GET("/sessions", s.withSession(s.listSessions))
	api.DELETE("/sessions/:id", s.withSession(s.revokeSession))
}

// flow is what a browser sign-in that ends in a CLI grant carries.
type flow struct {
	// Loopback redirect (RFC 8252) with PKCE.
	RedirectURI string `json:",omitempty"`
	State       string `json:",omitempty"`
	Challenge   string `json:",omitempty"`
	// Device authorization grant (RFC 8628).
	DeviceCode string `json:",omitempty"`
	UserCode   string `json:",omitempty"`
	Client     string `json:",omitempty"`
}

// draft is a verified sign-in waiting to become a CLI session.
type draft struct {
	Pool, Provider, Subject string
	Claims                  map[string]any
	// RawToken is kept only when the pool forwards the upstream token
	// (upstream-token mode); the session then ends when the token does.
	RawToken    string `json:",omitempty"`
	TokenExpiry int64  `json:",omitempty"`
	Method      string
	Client      string
}

// sealedSession is what a stored CLI session keeps encrypted.
type sealedSession struct {
	Claims   map[string]any
	RawToken string `json:",omitempty"`
}

var (
	pkceChallengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	pkceVerifierPattern  = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)
	statePattern         = regexp.MustCompile(`^[A-Za-z0-9._~-]{8,256}$`)
)

// parseLoopbackRedirect accepts only what RFC 8252 §7.3 calls a loopback
// redirect: http to the literal 127.0.0.1 or [::1] with an explicit port,
// no user info and no fragment. "localhost" is refused (it can resolve
// elsewhere), and so is everything else: a refused URI is never redirected to.
func parseLoopbackRedirect(raw string) (*url.URL, bool) {
	if raw == "" || len(raw) > maxField {
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" || u.Opaque != "" || strings.Contains(raw, "#") {
		return nil, false
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || (host != "127.0.0.1" && host != "::1") {
		return nil, false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return nil, false
	}
	if u.Path != "" && !strings.HasPrefix(u.Path, "/") {
		return nil, false
	}
	return u, true
}

// withQuery returns u with extra query parameters added.
func withQuery(u *url.URL, extra url.Values) string {
	q := u.Query()
	for k, vs := range extra {
		q[k] = vs
	}
	out := *u
	out.RawQuery = q.Encode()
	return out.String()
}

// cleanClientName keeps what the CLI says about itself printable and short.
func cleanClientName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '<' || r == '>' || r == '"' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len([]rune(s)) > maxClientName {
		s = string([]rune(s)[:maxClientName])
	}
	return s
}

// target resolves the pool and provider of a CLI sign-in. The provider
// may be left out when the pool accepts exactly one.
func (s *CLI) target(poolKey, providerID string) (*core.Pool, *core.Provider, *core.Error) {
	if poolKey == "" {
		return nil, nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "Name a pool (its id or name); `fedgate login --pool` sets it.")
	}
	pool, e := s.core.LookupPool(poolKey)
	if e != nil {
		return nil, nil, e
	}
	if providerID == "" {
		if len(pool.Providers) != 1 {
			return nil, nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The pool %q accepts several identity providers; name one (`fedgate login --provider`).", pool.Cfg.DisplayName)
		}
		return pool, pool.Providers[0], nil
	}
	prov := pool.Provider(providerID)
	if prov == nil {
		return nil, nil, core.Errorf(http.StatusNotFound, core.CodeUnknownProvider, "The pool %q does not accept that identity provider.", pool.Cfg.DisplayName)
	}
	return pool, prov, nil
}

// input reads a small request body sent as a form or as JSON into a
// flat string map, so endpoints accept both (OAuth clients send forms).
func input(c *gin.Context, fields ...string) (map[string]string, *core.Error) {
	out := map[string]string{}
	if c.ContentType() == "application/json" {
		raw := map[string]any{}
		if e := httpkit.DecodeJSON(c, &raw); e != nil {
			return nil, e
		}
		for k, v := range raw {
			if !slices.Contains(fields, k) {
				return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The body has an unknown field %q.", core.Truncate(k, 40))
			}
			switch v := v.(type) {
			case string:
				out[k] = v
			case float64:
				out[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case nil:
			default:
				return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The field %q must be a string or a number.", k)
			}
		}
	} else {
		if err := c.Request.ParseForm(); err != nil {
			return nil, httpkit.FormError(err)
		}
		for _, k := range fields {
			if v := c.Request.PostForm.Get(k); v != "" {
				out[k] = v
			}
		}
	}
	for k, v := range out {
		if len(v) > maxField {
			return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The field %q is too long.", k)
		}
	}
	return out, nil
}
