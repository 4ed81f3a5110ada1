package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"fedgate/gateway/testkit"
	"fedgate/idp"
	"fedgate/idp/internal/httpcap"
)

const testRedirectURL = "http://127.0.0.1:8765/callback"

// newTestSetup is the usual start of a test: a clock, a test IdP and a
// provider for it (mutate, if not nil, adjusts the provider's config).
func newTestSetup(t testing.TB, mutate func(*Config)) (*testkit.Clock, *testIdP, *Provider) {
	t.Helper()
	clock := newFakeClock()
	op := newTestIdP(t, clock)
	return clock, op, newTestProvider(t, op, clock, mutate)
}

// newRSAKey is a fresh RSA key, for a key the IdP does not publish or one
// it rotates to.
func newRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newTestProvider(t testing.TB, op *testIdP, clock *testkit.Clock, mutate func(*Config)) *Provider {
	t.Helper()
	cfg := Config{
		ID:             "corp",
		DisplayName:    "Corp SSO",
		Issuer:         op.URL(),
		ClientID:       testClientID,
		ClientSecret:   testClientSecret,
		UserInfo:       true,
		ExtraAudiences: []string{"mobile-app"},
		ClockSkew:      time.Minute,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	client := op.Client()
	client.Timeout = 5 * time.Second
	p, err := New(context.Background(), cfg, client, clock.Now)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func newFlow() idp.Flow {
	return idp.Flow{
		State:        "state-" + rand.Text(),
		Nonce:        "nonce-" + rand.Text(),
		PKCEVerifier: rand.Text() + rand.Text(),
		RedirectURL:  testRedirectURL,
	}
}

// signIn plays the browser: it follows AuthCodeURL to the test IdP and
// returns the code and state it redirects back with.
func signIn(t *testing.T, op *testIdP, p *Provider, f idp.Flow) (code, state string) {
	t.Helper()
	authURL := p.AuthCodeURL(f)
	if authURL == "" {
		t.Fatal("AuthCodeURL is empty")
	}
	browser := op.Client()
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize status %d", resp.StatusCode)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return back.Query().Get("code"), back.Query().Get("state")
}

func TestOIDCAuthCodeURLCarriesFlow(t *testing.T) {
	_, _, p := newTestSetup(t, nil)
	f := newFlow()

	u, err := url.Parse(p.AuthCodeURL(f))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sum := sha256.Sum256([]byte(f.PKCEVerifier))
	want := map[string]string{
		"client_id":             testClientID,
		"redirect_uri":          f.RedirectURL,
		"state":                 f.State,
		"nonce":                 f.Nonce,
		"response_type":         "code",
		"code_challenge_method": "S256",
		"code_challenge":        base64.RawURLEncoding.EncodeToString(sum[:]),
		"scope":                 "openid profile email",
	}
	for name, value := range want {
		if got := q.Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
	if q.Has("code_verifier") {
		t.Error("the PKCE verifier must never leave the gateway in the browser URL")
	}
}

func TestOIDCExchange(t *testing.T) {
	tests := []struct {
		name         string
		userInfo     bool
		wantDept     bool
		wantEmail    string
		wantIdentity string
	}{
		{name: "with userinfo merge", userInfo: true, wantDept: true, wantEmail: "idtoken@example.com"},
		{name: "without userinfo", userInfo: false, wantDept: false, wantEmail: "idtoken@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, op, p := newTestSetup(t, func(c *Config) { c.UserInfo = tt.userInfo })
			f := newFlow()
			code, state := signIn(t, op, p, f)
			if state != f.State {
				t.Fatalf("state = %q, want %q", state, f.State)
			}
			id, err := p.Exchange(context.Background(), code, f)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if id.Provider != "corp" || id.Subject != testSubject || id.RawToken == "" {
				t.Errorf("identity = %+v", id)
			}
			if id.Claims["nonce"] != f.Nonce {
				t.Errorf("nonce claim = %v", id.Claims["nonce"])
			}
			if id.Claims["email"] != tt.wantEmail {
				t.Errorf("email = %v, want %v (ID token wins over userinfo)", id.Claims["email"], tt.wantEmail)
			}
			if _, got := id.Claims["department"]; got != tt.wantDept {
				t.Errorf("userinfo claim present = %v, want %v", got, tt.wantDept)
			}
		})
	}
}

func TestOIDCExchangeFailures(t *testing.T) {
	tests := []struct {
		name    string
		arrange func(op *testIdP)
		alter   func(f *idp.Flow, code *string)
		want    error
		notWant error
	}{
		{
			name:    "wrong PKCE verifier is refused by the token endpoint",
			alter:   func(f *idp.Flow, _ *string) { f.PKCEVerifier = rand.Text() + rand.Text() },
			want:    idp.ErrExchangeFailed,
			notWant: idp.ErrUpstream,
		},
		{
			name:  "nonce of another flow",
			alter: func(f *idp.Flow, _ *string) { f.Nonce = "nonce-of-another-flow" },
			want:  idp.ErrNonceMismatch,
		},
		{
			name:  "redirect differs from the one authorized",
			alter: func(f *idp.Flow, _ *string) { f.RedirectURL = "http://127.0.0.1:9999/callback" },
			want:  idp.ErrExchangeFailed,
		},
		{
			name:  "unknown code",
			alter: func(_ *idp.Flow, code *string) { *code = "forged" },
			want:  idp.ErrExchangeFailed,
		},
		{
			name:  "empty code",
			alter: func(_ *idp.Flow, code *string) { *code = "" },
			want:  idp.ErrExchangeFailed,
		},
		{
			name:    "token endpoint down",
			arrange: func(op *testIdP) { op.tokenStatus = http.StatusBadGateway },
			want:    idp.ErrUpstream,
		},
		{
			name: "userinfo sub differs",
			arrange: func(op *testIdP) {
				op.userinfo = map[string]any{"sub": "someone-else"}
			},
			want: idp.ErrInvalidToken,
		},
		{
			name:    "ID token azp is another client",
			arrange: func(op *testIdP) { op.idTokenExtra = map[string]any{"azp": "mobile-app"} },
			want:    idp.ErrWrongAudience,
		},
		{
			name:    "ID token at_hash does not match the access token",
			arrange: func(op *testIdP) { op.idTokenExtra = map[string]any{"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"} },
			want:    idp.ErrInvalidToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, op, p := newTestSetup(t, nil)
			f := newFlow()
			code, _ := signIn(t, op, p, f)
			if tt.arrange != nil {
				op.mu.Lock()
				tt.arrange(op)
				op.mu.Unlock()
			}
			if tt.alter != nil {
				tt.alter(&f, &code)
			}
			id, err := p.Exchange(context.Background(), code, f)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.notWant != nil && errors.Is(err, tt.notWant) {
				t.Errorf("err = %v, must not be %v", err, tt.notWant)
			}
			if id != nil {
				t.Errorf("identity returned on failure: %+v", id)
			}
		})
	}
}

func TestOIDCCodeIsSingleUse(t *testing.T) {
	_, op, p := newTestSetup(t, nil)
	f := newFlow()
	code, _ := signIn(t, op, p, f)
	if _, err := p.Exchange(context.Background(), code, f); err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	if _, err := p.Exchange(context.Background(), code, f); !errors.Is(err, idp.ErrExchangeFailed) {
		t.Fatalf("second exchange err = %v, want ErrExchangeFailed", err)
	}
}

func TestOIDCVerifyToken(t *testing.T) {
	clock, op, p := newTestSetup(t, nil)
	now := clock.Now()

	otherRSA := newRSAKey(t)
	with := func(changes map[string]any) map[string]any {
		c := op.claims()
		for k, v := range changes {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	rsaToken := func(changes map[string]any) string { return op.rsa.Sign(t, with(changes)) }

	tests := []struct {
		name  string
		token string
		want  error // nil: accepted
	}{
		{name: "valid RS256", token: rsaToken(nil)},
		{name: "valid ES256", token: op.ec.Sign(t, op.claims())},
		{name: "extra audience (an app's client id)", token: rsaToken(map[string]any{"aud": "mobile-app"})},
		{name: "several audiences with accepted azp", token: rsaToken(map[string]any{"aud": []string{"mobile-app", "other"}, "azp": "mobile-app"})},
		{name: "expired within clock skew", token: rsaToken(map[string]any{"exp": now.Add(-30 * time.Second).Unix()})},
		{name: "expired", token: rsaToken(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()}), want: idp.ErrExpiredToken},
		{name: "missing exp", token: rsaToken(map[string]any{"exp": nil}), want: idp.ErrInvalidToken},
		{name: "wrong audience", token: rsaToken(map[string]any{"aud": "someone-else"}), want: idp.ErrWrongAudience},
		{name: "azp mismatch", token: rsaToken(map[string]any{"azp": "someone-else"}), want: idp.ErrWrongAudience},
		{name: "several audiences without azp", token: rsaToken(map[string]any{"aud": []string{testClientID, "other"}}), want: idp.ErrWrongAudience},
		{name: "wrong issuer", token: rsaToken(map[string]any{"iss": "https://evil.example"}), want: idp.ErrWrongIssuer},
		{name: "missing sub", token: rsaToken(map[string]any{"sub": nil}), want: idp.ErrMissingSubject},
		{name: "empty sub", token: rsaToken(map[string]any{"sub": ""}), want: idp.ErrMissingSubject},
		{name: "issued in the future", token: rsaToken(map[string]any{"iat": now.Add(10 * time.Minute).Unix()}), want: idp.ErrInvalidToken},
		{name: "bad signature (other key, published kid)", token: testkit.SignJWT(t, jose.RS256, jose.JSONWebKey{Key: otherRSA, KeyID: op.rsa.ID}, op.claims()), want: idp.ErrInvalidToken},
		{name: "alg none", token: unsignedJWT(t, op.claims()), want: idp.ErrInvalidToken},
		{name: "HS256 with a shared secret", token: testkit.SignJWT(t, jose.HS256, jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: op.rsa.ID}, op.claims()), want: idp.ErrInvalidToken},
		{name: "RS384 is not on the allow-list", token: testkit.SignJWT(t, jose.RS384, jose.JSONWebKey{Key: op.rsa.Key, KeyID: op.rsa.ID}, op.claims()), want: idp.ErrInvalidToken},
		{name: "oversized", token: rsaToken(map[string]any{"padding": strings.Repeat("x", maxTokenBytes)}), want: idp.ErrInvalidToken},
		{name: "JWT access token (RFC 9068 typ at+jwt) with the client as audience", token: testkit.SignTyped(t, "at+jwt", jose.RS256, jose.JSONWebKey{Key: op.rsa.Key, KeyID: op.rsa.ID}, op.claims()), want: idp.ErrInvalidToken},
		{name: "garbage", token: "not.a.jwt", want: idp.ErrInvalidToken},
		{name: "empty", token: "", want: idp.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := p.VerifyToken(context.Background(), tt.token)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyToken: %v", err)
				}
				if id.Subject != testSubject || id.RawToken != tt.token || id.Claims["sub"] != testSubject {
					t.Errorf("identity = %+v", id)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if id != nil {
				t.Errorf("identity returned on failure")
			}
		})
	}
}

func TestOIDCVerifyTokenNoncePolicy(t *testing.T) {
	// Browser-flow verification binds the nonce; app tokens carry none.
	_, op, p := newTestSetup(t, nil)
	d, err := p.discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	claims := op.claims()
	claims["nonce"] = "n-1"
	raw := op.rsa.Sign(t, claims)
	tests := []struct {
		name  string
		nonce string
		want  error
	}{
		{name: "matching", nonce: "n-1"},
		{name: "different", nonce: "n-2", want: idp.ErrNonceMismatch},
		{name: "flow without nonce", nonce: "", want: idp.ErrNonceMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.verify(context.Background(), d, raw, []string{testClientID}, &tt.nonce)
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestOIDCUnknownKidRefetchIsRateLimited(t *testing.T) {
	clock, op, p := newTestSetup(t, nil)
	ctx := context.Background()

	if _, err := p.VerifyToken(ctx, op.rsa.Sign(t, op.claims())); err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if got := op.JWKSHits(); got != 1 {
		t.Fatalf("JWKS fetches after first token = %d, want 1", got)
	}

	strangerKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	stranger := testkit.Key{ID: "unknown-kid", Alg: jose.ES256, Key: strangerKey}
	steps := []struct {
		advance   time.Duration
		wantFetch int
	}{
		{advance: 11 * time.Second, wantFetch: 2}, // first unknown kid refetches
		{advance: 2 * time.Second, wantFetch: 2},  // second within 10 s does not
		{advance: 3 * time.Second, wantFetch: 2},  // still within 10 s of the refetch
		{advance: 6 * time.Second, wantFetch: 3},  // window over: one more refetch
	}
	for i, step := range steps {
		clock.Advance(step.advance)
		_, err := p.VerifyToken(ctx, stranger.Sign(t, op.claims()))
		if !errors.Is(err, idp.ErrInvalidToken) {
			t.Fatalf("step %d: err = %v, want ErrInvalidToken", i, err)
		}
		if got := op.JWKSHits(); got != step.wantFetch {
			t.Fatalf("step %d: JWKS fetches = %d, want %d", i, got, step.wantFetch)
		}
	}
	// Known keys keep working from the cache without fetching.
	if _, err := p.VerifyToken(ctx, op.ec.Sign(t, op.claims())); err != nil {
		t.Fatalf("valid token after bad ones: %v", err)
	}
	if got := op.JWKSHits(); got != 3 {
		t.Fatalf("JWKS fetches = %d, want 3", got)
	}
}

func TestOIDCKeyRotationIsPickedUp(t *testing.T) {
	clock, op, p := newTestSetup(t, nil)
	ctx := context.Background()
	if _, err := p.VerifyToken(ctx, op.rsa.Sign(t, op.claims())); err != nil {
		t.Fatal(err)
	}
	newKey := newRSAKey(t)
	rotated := testkit.Key{ID: "rsa-2", Alg: jose.RS256, Key: newKey}
	op.Publish(rotated.Public())
	clock.Advance(jwksRefetchInterval)
	if _, err := p.VerifyToken(ctx, rotated.Sign(t, op.claims())); err != nil {
		t.Fatalf("token signed with rotated key: %v", err)
	}
}

func TestOIDCLazyDiscovery(t *testing.T) {
	clock := newFakeClock()
	op := newTestIdP(t, clock)
	op.SetDiscoveryDown(true)
	p := newTestProvider(t, op, clock, nil) // must not fail while the IdP is down
	ctx := context.Background()

	if err := p.Ready(ctx); !errors.Is(err, idp.ErrUpstream) {
		t.Fatalf("Ready while down = %v, want ErrUpstream", err)
	}
	if _, err := p.VerifyToken(ctx, op.rsa.Sign(t, op.claims())); !errors.Is(err, idp.ErrUpstream) {
		t.Fatalf("VerifyToken while down = %v, want ErrUpstream", err)
	}
	if u := p.AuthCodeURL(newFlow()); u != "" {
		t.Fatalf("AuthCodeURL while down = %q, want empty", u)
	}

	op.SetDiscoveryDown(false)
	clock.Advance(discoveryRetryInterval / 2)
	if err := p.Ready(ctx); !errors.Is(err, idp.ErrUpstream) {
		t.Fatalf("Ready within the retry interval = %v, want the remembered ErrUpstream", err)
	}
	clock.Advance(discoveryRetryInterval)
	if err := p.Ready(ctx); err != nil {
		t.Fatalf("Ready after recovery: %v", err)
	}
	if _, err := p.VerifyToken(ctx, op.rsa.Sign(t, op.claims())); err != nil {
		t.Fatalf("VerifyToken after recovery: %v", err)
	}
}

func TestOIDCDiscoveryRejectsOversizedResponse(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"` + strings.Repeat("a", maxUpstreamBody) + `"}`))
	}))
	defer srv.Close()
	p, err := New(context.Background(), Config{ID: "big", Issuer: srv.URL, ClientID: "c"}, srv.Client(), newFakeClock().Now)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Ready(context.Background())
	if !errors.Is(err, idp.ErrUpstream) || !strings.Contains(err.Error(), httpcap.ErrBodyTooLarge.Error()) {
		t.Fatalf("Ready = %v, want ErrUpstream caused by the size cap", err)
	}
}

func TestNewOIDCConfig(t *testing.T) {
	valid := Config{ID: "corp", Issuer: "https://idp.example.com", ClientID: "c"}
	tests := []struct {
		name    string
		mutate  func(*Config)
		noHTTP  bool
		wantErr bool
	}{
		{name: "valid"},
		{name: "explicit asymmetric algorithms", mutate: func(c *Config) { c.AllowedAlgorithms = []string{"PS256", "ES384"} }},
		{name: "HS256 refused", mutate: func(c *Config) { c.AllowedAlgorithms = []string{"RS256", "HS256"} }, wantErr: true},
		{name: "none refused", mutate: func(c *Config) { c.AllowedAlgorithms = []string{"none"} }, wantErr: true},
		{name: "missing id", mutate: func(c *Config) { c.ID = "" }, wantErr: true},
		{name: "missing client id", mutate: func(c *Config) { c.ClientID = "" }, wantErr: true},
		{name: "issuer not a URL", mutate: func(c *Config) { c.Issuer = "idp.example.com" }, wantErr: true},
		{name: "issuer with query", mutate: func(c *Config) { c.Issuer = "https://idp.example.com/?tenant=1" }, wantErr: true},
		{name: "negative skew", mutate: func(c *Config) { c.ClockSkew = -time.Second }, wantErr: true},
		{name: "empty extra audience", mutate: func(c *Config) { c.ExtraAudiences = []string{""} }, wantErr: true},
		{name: "nil HTTP client", noHTTP: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			if tt.mutate != nil {
				tt.mutate(&cfg)
			}
			client := &http.Client{Transport: failingTransport{}}
			if tt.noHTTP {
				client = nil
			}
			p, err := New(context.Background(), cfg, client, nil)
			if tt.wantErr {
				if !errors.Is(err, idp.ErrInvalidConfig) {
					t.Fatalf("err = %v, want ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if p.Type() != "oidc" || p.ID() != "corp" {
				t.Errorf("Type/ID = %q/%q", p.Type(), p.ID())
			}
			if !errors.Is(p.Ready(context.Background()), idp.ErrUpstream) {
				t.Error("Ready must report the unreachable IdP")
			}
		})
	}
}

func TestNewOIDCDefaults(t *testing.T) {
	p, err := New(context.Background(), Config{ID: "corp", Issuer: "https://idp.example.com", ClientID: "c", Scopes: []string{"groups"}},
		&http.Client{Transport: failingTransport{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.cfg.Scopes, " "); got != "openid groups" {
		t.Errorf("scopes = %q, want openid added", got)
	}
	if got := strings.Join(p.algorithms, ","); got != "RS256,ES256" {
		t.Errorf("algorithms = %q", got)
	}
	if p.cfg.ClockSkew != 0 {
		t.Errorf("skew = %v; a Config's skew is exact (Settings supply the default)", p.cfg.ClockSkew)
	}
	s := &Settings{}
	s.ApplyDefaults(idp.Site{})
	if s.ClockSkew == nil || s.ClockSkew.D() != time.Minute {
		t.Errorf("settings skew default = %v", s.ClockSkew)
	}
}

// failingTransport stands in for an unreachable network.
type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("network unreachable")
}
