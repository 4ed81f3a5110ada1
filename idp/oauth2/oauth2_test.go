package oauth2

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fedgate/idp"
)

const (
	testRedirect = "https://fedgate.example.com/callback"
	testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

func testFlow(state string) idp.Flow {
	return idp.Flow{State: state, Nonce: "unused-nonce", PKCEVerifier: testVerifier, RedirectURL: testRedirect}
}

func newProvider(t *testing.T, cfg Config, client *http.Client) *Provider {
	t.Helper()
	p, err := New(cfg, client)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// countingTransport proves which client carried a request.
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func TestAuthCodeURL(t *testing.T) {
	srv := newFakeServer(t, "s3cret", authBasic)
	cfg := srv.config()
	cfg.AuthorizationURL += "?prompt=consent" // a query of the endpoint's own is kept
	p := newProvider(t, cfg, srv.Client())
	u, err := url.Parse(p.AuthCodeURL(testFlow("state-1")))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(testVerifier))
	want := url.Values{
		"prompt": {"consent"}, "response_type": {"code"}, "client_id": {"fedgate"}, "redirect_uri": {testRedirect},
		"scope": {"read:user"}, "state": {"state-1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	if got := u.Query(); !reflect.DeepEqual(got, want) {
		t.Errorf("query %v\nwant  %v", got, want)
	}
	if u.Scheme+"://"+u.Host+u.Path != srv.URL+"/authorize" {
		t.Errorf("endpoint %s", u)
	}
	for _, f := range []idp.Flow{{State: "s", RedirectURL: testRedirect}, {PKCEVerifier: testVerifier, RedirectURL: testRedirect}} {
		if got := p.AuthCodeURL(f); got != "" {
			t.Errorf("AuthCodeURL(%+v) = %q, want empty for a flow without state or verifier", f, got)
		}
	}
}

func TestExchange(t *testing.T) {
	tests := []struct {
		name         string
		secret, auth string
		subject      string
		claims       map[string]string
		userInfo     string
		wantSubject  string
		wantClaims   map[string]any
	}{
		{
			name: "basic auth, every top-level field", secret: "s3cret",
			userInfo:    `{"sub":"alice","email":"alice@example.com","groups":["eng"],"n":42}`,
			wantSubject: "alice",
			wantClaims:  map[string]any{"sub": "alice", "email": "alice@example.com", "groups": []any{"eng"}, "n": float64(42)},
		},
		{
			name: "post auth, GitHub-style numeric id", secret: "s3cret", auth: authPost, subject: "id",
			userInfo:    `{"id":583231,"login":"octocat","name":null}`,
			wantSubject: "583231",
			wantClaims:  map[string]any{"sub": "583231", "id": float64(583231), "login": "octocat", "name": nil},
		},
		{
			name: "public client, mapped nested claims", auth: authNone, subject: "user.id",
			claims:      map[string]string{"login": "user.login", "team": `"https://x.example/org".team`, "absent": "no.such"},
			userInfo:    `{"user":{"id":"u-1","login":"al"},"https://x.example/org":{"team":"blue"},"other":"dropped"}`,
			wantSubject: "u-1",
			wantClaims:  map[string]any{"sub": "u-1", "login": "al", "team": "blue"},
		},
		{
			name: "userinfo sub is replaced by the configured subject", secret: "s3cret", subject: "id",
			userInfo:    `{"id":7,"sub":"something-else"}`,
			wantSubject: "7",
			wantClaims:  map[string]any{"sub": "7", "id": float64(7)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, tt.secret, tt.auth)
			srv.setUserInfo(tt.userInfo)
			cfg := srv.config()
			cfg.SubjectClaim, cfg.Claims = tt.subject, tt.claims
			counting := &countingTransport{base: srv.Client().Transport}
			p := newProvider(t, cfg, &http.Client{Transport: counting, Timeout: 5 * time.Second})
			f := testFlow("state-" + strings.ReplaceAll(tt.name, " ", "-"))
			code := srv.signIn(t, p.AuthCodeURL(f))
			ident, err := p.Exchange(context.Background(), code, f)
			if err != nil {
				t.Fatal(err)
			}
			if ident.Provider != "hub" || ident.Subject != tt.wantSubject || ident.RawToken != "" {
				t.Errorf("identity %+v", ident)
			}
			if !reflect.DeepEqual(ident.Claims, tt.wantClaims) {
				t.Errorf("claims %#v\nwant   %#v", ident.Claims, tt.wantClaims)
			}
			if n := counting.n.Load(); n != 2 {
				t.Errorf("the injected client made %d requests, want 2 (token, userinfo)", n)
			}
		})
	}
}

// TestExchangeRefusals: what the provider refuses, and which sentinel says
// so (callers tell a retryable upstream failure from a refused sign-in).
func TestExchangeRefusals(t *testing.T) {
	jsonAnswer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	tests := []struct {
		name     string
		setup    func(*fakeServer, *Config)
		code     func(code string) string
		flow     func(idp.Flow) idp.Flow
		want     error
		upstream bool // ErrUpstream too
	}{
		{name: "empty code", code: func(string) string { return "" }, want: idp.ErrExchangeFailed},
		{name: "flow without verifier", flow: func(f idp.Flow) idp.Flow { f.PKCEVerifier = ""; return f }, want: idp.ErrExchangeFailed},
		{name: "another verifier (PKCE)", flow: func(f idp.Flow) idp.Flow { f.PKCEVerifier = strings.Repeat("x", 43); return f }, want: idp.ErrExchangeFailed},
		{name: "another redirect URI", flow: func(f idp.Flow) idp.Flow { f.RedirectURL = "https://evil.example/callback"; return f }, want: idp.ErrExchangeFailed},
		{name: "unknown code", code: func(string) string { return "forged" }, want: idp.ErrExchangeFailed},
		{name: "wrong client secret", setup: func(_ *fakeServer, c *Config) { c.ClientSecret = "wrong" }, want: idp.ErrExchangeFailed},
		{name: "error answered with 200 (GitHub style)", setup: func(s *fakeServer, _ *Config) {
			s.onToken(jsonAnswer(200, `{"error":"bad_verification_code"}`))
		}, want: idp.ErrExchangeFailed},
		{name: "no access token", setup: func(s *fakeServer, _ *Config) {
			s.onToken(jsonAnswer(200, `{"token_type":"bearer"}`))
		}, want: idp.ErrExchangeFailed},
		{name: "not a bearer token", setup: func(s *fakeServer, _ *Config) {
			s.onToken(jsonAnswer(200, `{"access_token":"a","token_type":"mac"}`))
		}, want: idp.ErrExchangeFailed},
		{name: "token endpoint fails", setup: func(s *fakeServer, _ *Config) {
			s.onToken(jsonAnswer(503, `{"error":"temporarily_unavailable"}`))
		}, want: idp.ErrExchangeFailed, upstream: true},
		{name: "token endpoint unreachable", setup: func(_ *fakeServer, c *Config) { c.TokenURL = "http://127.0.0.1:1/token" },
			want: idp.ErrExchangeFailed, upstream: true},
		{name: "userinfo refuses the token", setup: func(s *fakeServer, _ *Config) {
			s.onUserInfo(jsonAnswer(401, `{"error":"invalid_token"}`))
		}, want: idp.ErrExchangeFailed},
		{name: "userinfo fails", setup: func(s *fakeServer, _ *Config) { s.onUserInfo(jsonAnswer(502, `{}`)) }, want: idp.ErrUpstream},
		{name: "userinfo unreachable", setup: func(_ *fakeServer, c *Config) { c.UserInfoURL = "http://127.0.0.1:1/userinfo" }, want: idp.ErrUpstream},
		{name: "userinfo not JSON", setup: func(s *fakeServer, _ *Config) { s.setUserInfo(`<html>sign in</html>`) }, want: idp.ErrInvalidToken},
		{name: "userinfo a JSON list", setup: func(s *fakeServer, _ *Config) { s.setUserInfo(`[{"sub":"alice"}]`) }, want: idp.ErrInvalidToken},
		{name: "userinfo with trailing data", setup: func(s *fakeServer, _ *Config) { s.setUserInfo(`{"sub":"alice"} {"sub":"bob"}`) }, want: idp.ErrInvalidToken},
		{name: "userinfo a JWT", setup: func(s *fakeServer, _ *Config) {
			s.onUserInfo(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/jwt")
				_, _ = w.Write([]byte(`{"sub":"alice"}`))
			})
		}, want: idp.ErrInvalidToken},
		{name: "userinfo too large", setup: func(s *fakeServer, _ *Config) {
			s.setUserInfo(`{"sub":"alice","pad":"` + strings.Repeat("a", maxUpstreamBody) + `"}`)
		}, want: idp.ErrTooLarge},
		{name: "no subject", setup: func(s *fakeServer, _ *Config) { s.setUserInfo(`{"email":"a@example.com"}`) }, want: idp.ErrMissingSubject},
		{name: "empty subject", setup: func(s *fakeServer, _ *Config) { s.setUserInfo(`{"sub":""}`) }, want: idp.ErrMissingSubject},
		{name: "null subject", setup: func(s *fakeServer, _ *Config) { s.setUserInfo(`{"sub":null}`) }, want: idp.ErrMissingSubject},
		{name: "boolean subject", setup: func(s *fakeServer, _ *Config) { s.setUserInfo(`{"sub":true}`) }, want: idp.ErrMissingSubject},
		{name: "fractional subject", setup: func(s *fakeServer, _ *Config) { s.setUserInfo(`{"sub":1.5}`) }, want: idp.ErrMissingSubject},
		{name: "object subject", setup: func(s *fakeServer, _ *Config) { s.setUserInfo(`{"sub":{"id":1}}`) }, want: idp.ErrMissingSubject},
		{name: "overlong subject", setup: func(s *fakeServer, _ *Config) {
			s.setUserInfo(`{"sub":"` + strings.Repeat("a", maxSubjectBytes+1) + `"}`)
		}, want: idp.ErrMissingSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, "s3cret", authBasic)
			cfg := srv.config()
			if tt.setup != nil {
				tt.setup(srv, &cfg)
			}
			p := newProvider(t, cfg, &http.Client{Transport: srv.Client().Transport, Timeout: 5 * time.Second})
			f := testFlow("state-refusal")
			code := srv.signIn(t, p.AuthCodeURL(f))
			if tt.code != nil {
				code = tt.code(code)
			}
			if tt.flow != nil {
				f = tt.flow(f)
			}
			ident, err := p.Exchange(context.Background(), code, f)
			if !errors.Is(err, tt.want) || ident != nil {
				t.Fatalf("Exchange = %+v, %v; want %v", ident, err, tt.want)
			}
			if errors.Is(err, idp.ErrUpstream) != (tt.upstream || tt.want == idp.ErrUpstream) {
				t.Errorf("error %v: ErrUpstream is %v, want %v", err, errors.Is(err, idp.ErrUpstream), tt.upstream)
			}
			if strings.Contains(err.Error(), "at-code-") {
				t.Errorf("the error carries the access token: %v", err)
			}
		})
	}
}

// A code works once at the server: a replayed callback gets nothing.
func TestExchangeCodeWorksOnce(t *testing.T) {
	srv := newFakeServer(t, "s3cret", authBasic)
	p := newProvider(t, srv.config(), srv.Client())
	f := testFlow("state-once")
	code := srv.signIn(t, p.AuthCodeURL(f))
	if _, err := p.Exchange(context.Background(), code, f); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Exchange(context.Background(), code, f); !errors.Is(err, idp.ErrExchangeFailed) {
		t.Fatalf("second exchange: %v, want ErrExchangeFailed", err)
	}
}

func TestNew(t *testing.T) {
	good := Config{ID: "hub", ClientID: "c", AuthorizationURL: "https://a.example/authorize", TokenURL: "https://a.example/token", UserInfoURL: "https://a.example/user"}
	tests := []struct {
		name   string
		modify func(*Config)
		client *http.Client
		want   string // in the error; empty: no error
	}{
		{"good", func(*Config) {}, http.DefaultClient, ""},
		{"no HTTP client: never a default one", func(*Config) {}, nil, "HTTP client is required"},
		{"no id", func(c *Config) { c.ID = "" }, http.DefaultClient, "id is required"},
		{"no client id", func(c *Config) { c.ClientID = "" }, http.DefaultClient, "client id is required"},
		{"bad token URL", func(c *Config) { c.TokenURL = "token" }, http.DefaultClient, "token endpoint"},
		{"unknown auth method", func(c *Config) { c.TokenAuthMethod = "private_key_jwt" }, http.DefaultClient, "private_key_jwt"},
		{"bad subject path", func(c *Config) { c.SubjectClaim = "a..b" }, http.DefaultClient, "subject claim"},
		{"claim named sub", func(c *Config) { c.Claims = map[string]string{"sub": "id"} }, http.DefaultClient, `"sub"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.modify(&cfg)
			p, err := New(cfg, tt.client)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := any(p).(idp.TokenVerifier); ok {
					t.Error("an oauth2 provider must not verify bearer tokens: an access token is opaque")
				}
				if p.Type() != "oauth2" || p.ID() != "hub" {
					t.Errorf("Type %q ID %q", p.Type(), p.ID())
				}
				return
			}
			if !errors.Is(err, idp.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want ErrInvalidConfig naming %q", err, tt.want)
			}
		})
	}
}
