package gateway

// The in-process harness of the gateway's unit tests: a real SQLite store in
// a temporary directory, the real issuer and secret box, the static demo
// provider, a test-only token verifier standing in for an OIDC provider on
// the JSON API, and the test kit's recording fake STS, clock, random source
// and log sink. End-to-end tests (cmd/fedgate) cover the real OIDC IdP and
// STS.

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	oidcidp "fedgate/idp/oidc"
	samlidp "fedgate/idp/saml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"fedgate/exchange/issuer"
	"fedgate/exchange/rules"
	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/signin"
	"fedgate/gateway/store"
	"fedgate/gateway/testkit"
	"fedgate/gateway/testkit/fakests"
	"fedgate/gateway/upstream"
	"fedgate/gateway/wire"
	"fedgate/idp"
	staticidp "fedgate/idp/static"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode) // no route dump on stdout
	os.Exit(m.Run())
}

// Test users of the static "demo" provider. alice gets one role, carol two
// (the picker), bob none.
const (
	gwPassAlice = "alice-pass-0b1e"
	gwPassCarol = "carol-pass-7c2d"
	gwPassBob   = "bob-pass-4f9a"

	gwTeamID  = "us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11"
	gwSoloID  = "eu-west-1:6a1d3b2c-1111-4c1e-9a59-1b2f1b7d2c22"
	gwAppIss  = "http://127.0.0.1:1/app-idp"
	gwReader  = "arn:aws:iam::123456789012:role/reader"
	gwAdmin   = "arn:aws:iam::123456789012:role/admin"
	gwSolo    = "arn:aws:iam::123456789012:role/solo"
	gwMaxBody = 64 << 10
)

// gwHashes holds bcrypt hashes made once per test binary. Cost 12
// (staticidp.HashPassword) takes about 3 s per hash under -race, and the static
// provider hashes a timing dummy at the highest configured cost on every
// snapshot build, so the tests use bcrypt's minimum cost; the format and
// the comparison are the same.
var gwHashes = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, pw := range []string{gwPassAlice, gwPassCarol, gwPassBob} {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			panic(err)
		}
		out[pw] = string(h)
	}
	return out
})

// gwConfig is the harness configuration: pool "team" (all matches, static
// and app providers, a session tag) and pool "solo" with its own issuer.
func gwConfig(publicURL string) *config.File {
	h := gwHashes()
	f := &config.File{
		Server: config.Server{Listen: "127.0.0.1:8080", PublicURL: publicURL, MaxBodyBytes: gwMaxBody,
			ShutdownGrace: config.Duration(5 * time.Second), ReloadInterval: config.Duration(time.Hour)},
		Keys: config.Keys{MasterKey: "set-by-harness"},
		Providers: []config.Provider{
			{ID: "demo", Type: config.ProviderStatic, DisplayName: "Demo users", Settings: &staticidp.Settings{Users: []staticidp.User{
				{Username: "alice", PasswordHash: h[gwPassAlice], Claims: map[string]any{"groups": []any{"dev"}, "email": "alice@example.com", "team": "blue"}},
				{Username: "carol", PasswordHash: h[gwPassCarol], Claims: map[string]any{"groups": []any{"dev", "admins"}, "email": "carol@example.com", "team": "red"}},
				{Username: "bob", PasswordHash: h[gwPassBob], Claims: map[string]any{"groups": []any{"sales"}, "team": "green"}},
			}},
			},
			{ID: "app", Type: config.ProviderOIDC, DisplayName: "App IdP", Settings: &oidcidp.Settings{Issuer: gwAppIss, ClientID: "app-client"}},
		},
		Pools: []config.Pool{
			{ID: gwTeamID, Name: "team", DisplayName: "Team", Providers: []string{"demo", "app"}, Resolution: rules.AllMatches,
				PrincipalTags: map[string]string{"team": "team"},
				Rules: []rules.RuleSpec{
					{Name: "admins", Match: []rules.Condition{{Claim: "groups", Op: "equals", Value: "admins"}}, Role: gwAdmin},
					{Name: "devs", Match: []rules.Condition{{Claim: "groups", Op: "equals", Value: "dev"}}, Role: gwReader},
				}},
			{ID: gwSoloID, Name: "solo", DisplayName: "Solo", Providers: []string{"demo"}, OwnIssuer: true,
				Rules: []rules.RuleSpec{{Name: "all", Match: []rules.Condition{{Claim: "sub", Op: "exists"}}, Role: gwSolo}}},
		},
	}
	f.ApplyDefaults()
	return f
}

type gwHarness struct {
	t      testing.TB
	cfg    *config.File
	dbPath string
	store  *store.SQLite
	hang   *hangStore // the store the server uses: h.store, able to hang
	box    *secret.Box
	iss    *issuer.Issuer
	sts    *fakests.STS
	clock  *testkit.Clock
	rand   io.Reader
	logs   *testkit.LogBuffer
	log    *slog.Logger
	srv    *Server
	verify *gwVerifier
}

type gwOption func(*config.File)

func newGWHarness(t testing.TB, opts ...gwOption) *gwHarness {
	t.Helper()
	return newGWHarnessURL(t, "http://127.0.0.1:8080", opts...)
}

func newGWHarnessURL(t testing.TB, publicURL string, opts ...gwOption) *gwHarness {
	t.Helper()
	ctx := context.Background()
	f := gwConfig(publicURL)
	for _, o := range opts {
		o(f)
	}
	if ps := f.Validate(); len(ps) > 0 {
		t.Fatalf("harness config invalid: %v", ps)
	}
	h := &gwHarness{
		t: t, cfg: f, dbPath: filepath.Join(t.TempDir(), "fedgate.db"),
		clock: testkit.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)),
		rand:  testkit.NewRand(1), logs: &testkit.LogBuffer{},
	}
	h.sts = fakests.New(h.clock.Now, nil)
	h.log = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	if h.store, err = store.OpenSQLite(ctx, h.dbPath, h.clock.Now); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.store.Close() })
	key := make([]byte, secret.KeySize)
	if _, err := io.ReadFull(h.rand, key); err != nil {
		t.Fatal(err)
	}
	if h.box, err = secret.NewBox(key, h.rand); err != nil {
		t.Fatal(err)
	}
	if _, err := core.Seed(ctx, h.store, h.box, f, h.log); err != nil {
		t.Fatal(err)
	}
	if h.iss, err = issuer.New(ctx, issuer.Options{URL: f.Server.PublicURL, Algorithm: f.Keys.Algorithm, TokenTTL: f.Keys.TokenTTL.D(),
		Keys: h.store, Sealer: h.box, Now: h.clock.Now, Rand: h.rand}); err != nil {
		t.Fatal(err)
	}
	h.hang = &hangStore{Store: h.store}
	h.srv, err = New(ctx, Deps{Config: f, Store: h.hang, Issuer: h.iss, Box: h.box, STS: h.sts,
		Upstream: upstreamClient(t, f, time.Second), Logger: h.log, Now: h.clock.Now, Rand: h.rand})
	if err != nil {
		t.Fatal(err)
	}
	h.verify = newGWVerifier()
	h.installVerifier()
	h.logs.Reset()
	return h
}

// upstreamClient is the IdP client main builds: the file's allowance,
// and the address policy in its dialer.
func upstreamClient(t testing.TB, f *config.File, timeout time.Duration) *http.Client {
	t.Helper()
	c, err := upstream.NewClient(upstream.Options{AllowCIDRs: f.Server.AllowUpstreamCIDRs, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// installVerifier puts the test token verifier in place of the "app" OIDC
// provider of the live snapshot (no upstream IdP runs in unit tests).
func (h *gwHarness) installVerifier() {
	if lp := h.srv.core.Snapshot().Providers["app"]; lp != nil {
		lp.Provider = h.verify
	}
}

// reload makes the server pick up the store's latest configuration, as the
// watch loop does every reload_interval.
func (h *gwHarness) reload() {
	h.t.Helper()
	if err := h.srv.core.Reload(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.installVerifier()
}

// putMappings stores a new configuration version as an admin would.
func (h *gwHarness) putMappings(m config.Mappings, source string) int64 {
	h.t.Helper()
	ctx := context.Background()
	doc, err := json.Marshal(m)
	if err != nil {
		h.t.Fatal(err)
	}
	sealed, err := h.box.Seal(doc, []byte("config"))
	if err != nil {
		h.t.Fatal(err)
	}
	cur, err := h.store.LatestConfig(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	v, err := h.store.PutConfig(ctx, store.ConfigVersion{Doc: sealed, Author: "test", Source: source}, cur.Version)
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

// countIdentities reads the number of stored identities straight from the
// SQLite file, past the store's API.
func countIdentities(t testing.TB, dbPath string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM identities`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// state is what a refusal must leave untouched.
type gwState struct{ identities, configVersion int64 }

func (h *gwHarness) state() gwState {
	h.t.Helper()
	s := gwState{identities: countIdentities(h.t, h.dbPath)}
	v, err := h.store.LatestConfig(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	s.configVersion = v.Version
	return s
}

// do serves one request in process.
func (h *gwHarness) do(req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(w, req)
	return w
}

// api posts a JSON body to the credentials API.
func (h *gwHarness) api(bearer, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/credentials", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return h.do(req)
}

// browser keeps cookies across requests like a browser on one origin.
type gwBrowser struct {
	h       *gwHarness
	cookies map[string]string
	origin  string
}

func (h *gwHarness) browser() *gwBrowser {
	return &gwBrowser{h: h, cookies: map[string]string{}}
}

func (b *gwBrowser) send(req *http.Request) *httptest.ResponseRecorder {
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	w := b.h.do(req)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return w
}

func (b *gwBrowser) get(path string) *httptest.ResponseRecorder {
	return b.send(httptest.NewRequest(http.MethodGet, path, nil))
}

func (b *gwBrowser) post(path string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	return b.send(req)
}

var (
	gwStatePattern = regexp.MustCompile(`name="state" value="([^"]+)"`)
	gwCSRFPattern  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

func gwFind(t testing.TB, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in page:\n%s", re, body)
	}
	return m[1]
}

// startLogin opens the static login form and returns its state.
func (b *gwBrowser) startLogin(pool string) string {
	b.h.t.Helper()
	w := b.get("/login/" + pool + "/demo")
	if w.Code != http.StatusOK {
		b.h.t.Fatalf("GET login form: %d %s", w.Code, w.Body)
	}
	return gwFind(b.h.t, gwStatePattern, w.Body.String())
}

// signIn posts the login form of a freshly opened flow.
func (b *gwBrowser) signIn(pool, user, pass string) *httptest.ResponseRecorder {
	state := b.startLogin(pool)
	return b.post("/login/"+pool+"/demo", url.Values{"state": {state}, "username": {user}, "password": {pass}})
}

// gwVerifier is a test-only idp.Provider + idp.TokenVerifier: it accepts
// fixed bearer tokens with fixed claims.
type gwVerifier struct {
	tokens map[string]*idp.Identity
}

var (
	_ idp.Provider      = (*gwVerifier)(nil)
	_ idp.TokenVerifier = (*gwVerifier)(nil)
)

// gwToken makes a JWT-shaped token whose (unverified) iss routes it to the
// app provider; the signature part names the user.
func gwToken(iss, who string) string {
	enc := base64.RawURLEncoding.EncodeToString
	payload, _ := json.Marshal(map[string]string{"iss": iss, "sub": who})
	return enc([]byte(`{"alg":"RS256","kid":"k1"}`)) + "." + enc(payload) + ".sig-" + who
}

var (
	gwTokenAlice   = gwToken(gwAppIss, "alice")
	gwTokenCarol   = gwToken(gwAppIss, "carol")
	gwTokenBob     = gwToken(gwAppIss, "bob")
	gwTokenExpired = gwToken(gwAppIss, "expired")
	gwTokenForged  = gwToken(gwAppIss, "forged")
	gwTokenForeign = gwToken("https://evil.example.com", "alice")
)

func newGWVerifier() *gwVerifier {
	id := func(sub string, claims map[string]any) *idp.Identity {
		claims["sub"] = sub
		return &idp.Identity{Provider: "app", Subject: sub, Claims: claims}
	}
	return &gwVerifier{tokens: map[string]*idp.Identity{
		gwTokenAlice: id("app|alice", map[string]any{"groups": []any{"dev"}, "email": "alice@example.com", "team": "blue"}),
		gwTokenCarol: id("app|carol", map[string]any{"groups": []any{"dev", "admins"}, "email": "carol@example.com", "team": "red"}),
		gwTokenBob:   id("app|bob", map[string]any{"groups": []any{"sales"}, "team": "green"}),
		// A claim list that cannot become a single-valued session tag.
		gwToken(gwAppIss, "multi"): id("app|multi", map[string]any{"groups": []any{"dev"}, "team": []any{"a", "b"}}),
	}}
}

func (*gwVerifier) ID() string          { return "app" }
func (*gwVerifier) Type() string        { return "oidc" }
func (*gwVerifier) DisplayName() string { return "App IdP" }

func (v *gwVerifier) VerifyToken(_ context.Context, raw string) (*idp.Identity, error) {
	if raw == gwTokenExpired {
		return nil, fmt.Errorf("%w: exp in the past", idp.ErrExpiredToken)
	}
	ident, ok := v.tokens[raw]
	if !ok {
		return nil, fmt.Errorf("%w: signature does not verify", idp.ErrInvalidToken)
	}
	claims := make(map[string]any, len(ident.Claims))
	for k, c := range ident.Claims {
		claims[k] = c
	}
	return &idp.Identity{Provider: ident.Provider, Subject: ident.Subject, Claims: claims, RawToken: raw}, nil
}

// gwAPIError decodes a JSON refusal.
func gwAPIError(t testing.TB, w *httptest.ResponseRecorder) wire.APIError {
	t.Helper()
	var e wire.APIError
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("body is not an API error: %v\n%s", err, w.Body)
	}
	return e
}

// Names the browser sees, as the tests expect them.
const (
	maxFormField = 4096 // the longest username or password a form takes
	flowCookie   = "fedgate-flow"
	sessCookie   = "fedgate-session"
	kindSession  = "browser-session"
	flowLifetime = 10 * time.Minute
)

var flowCookieName = signin.FlowCookieName

// The settings of a provider of each type, for tests that edit them.
func oidcSettings(p *config.Provider) *oidcidp.Settings     { return p.Settings.(*oidcidp.Settings) }
func samlSettings(p *config.Provider) *samlidp.Settings     { return p.Settings.(*samlidp.Settings) }
func staticSettings(p *config.Provider) *staticidp.Settings { return p.Settings.(*staticidp.Settings) }
