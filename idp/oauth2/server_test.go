package oauth2

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// fakeServer is an OAuth 2.0 authorization server: /authorize hands out a
// code bound to the PKCE challenge and redirect URI it was asked with,
// /token redeems it once for an access token, /userinfo answers for that
// token. Each answer can be replaced to test what fedgate refuses.
type fakeServer struct {
	*httptest.Server
	clientID     string
	clientSecret string // empty: a public client
	authMethod   string // client_secret_basic, client_secret_post or none

	mu       sync.Mutex
	codes    map[string]pendingCode
	tokens   map[string]bool
	userInfo string // the userinfo answer's body
	// overrides answer instead of the normal handler of their path.
	overrides map[string]http.HandlerFunc
}

type pendingCode struct{ challenge, redirectURI string }

func newFakeServer(t *testing.T, clientSecret, authMethod string) *fakeServer {
	t.Helper()
	s := &fakeServer{clientID: "fedgate", clientSecret: clientSecret, authMethod: authMethod,
		codes: map[string]pendingCode{}, tokens: map[string]bool{}, overrides: map[string]http.HandlerFunc{},
		userInfo: `{"sub":"alice","email":"alice@example.com","groups":["eng","s3-readers"]}`}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", s.authorize)
	// The token and userinfo endpoints answer as a test tells them to, or
	// normally.
	for path, normal := range map[string]http.HandlerFunc{"/token": s.redeem, "/userinfo": s.answerUserInfo} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			h := s.overrides[path]
			s.mu.Unlock()
			if h == nil {
				h = normal
			}
			h(w, r)
		})
	}
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// onToken and onUserInfo replace the token or userinfo endpoint;
// setUserInfo changes the normal userinfo answer.
func (s *fakeServer) onToken(h http.HandlerFunc) { s.override("/token", h) }

func (s *fakeServer) onUserInfo(h http.HandlerFunc) { s.override("/userinfo", h) }

func (s *fakeServer) override(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overrides[path] = h
}

func (s *fakeServer) setUserInfo(body string) { s.mu.Lock(); s.userInfo = body; s.mu.Unlock() }

// config is a provider configuration for this server.
func (s *fakeServer) config() Config {
	return Config{
		ID: "hub", DisplayName: "Hub",
		AuthorizationURL: s.URL + "/authorize", TokenURL: s.URL + "/token", UserInfoURL: s.URL + "/userinfo",
		ClientID: s.clientID, ClientSecret: s.clientSecret, TokenAuthMethod: s.authMethod,
		Scopes: []string{"read:user"},
	}
}

// authorize signs the person in at once and returns the code (instead of
// redirecting, which the tests need not follow).
func (s *fakeServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != s.clientID || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := "code-" + q.Get("state")
	s.mu.Lock()
	s.codes[code] = pendingCode{challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri")}
	s.mu.Unlock()
	_, _ = w.Write([]byte(code))
}

func (s *fakeServer) redeem(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "authorization_code" {
		fail(http.StatusBadRequest, "invalid_request")
		return
	}
	if !s.clientAuthenticated(r) {
		fail(http.StatusUnauthorized, "invalid_client")
		return
	}
	s.mu.Lock()
	pending, ok := s.codes[r.PostForm.Get("code")]
	delete(s.codes, r.PostForm.Get("code"))
	s.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != pending.challenge || r.PostForm.Get("redirect_uri") != pending.redirectURI {
		fail(http.StatusBadRequest, "invalid_grant")
		return
	}
	token := "at-" + r.PostForm.Get("code")
	s.mu.Lock()
	s.tokens[token] = true
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "bearer", "expires_in": 600})
}

// clientAuthenticated checks the client the way its authMethod says, and
// refuses the other ways, as a strict server does.
func (s *fakeServer) clientAuthenticated(r *http.Request) bool {
	user, pass, basic := r.BasicAuth()
	posted := r.PostForm.Get("client_secret")
	method := s.authMethod
	if method == "" { // the provider's default
		method = authNone
		if s.clientSecret != "" {
			method = authBasic
		}
	}
	switch method {
	case authBasic:
		return basic && user == s.clientID && pass == s.clientSecret && posted == ""
	case authPost:
		return !basic && r.PostForm.Get("client_id") == s.clientID && posted == s.clientSecret
	default:
		return !basic && r.PostForm.Get("client_id") == s.clientID && posted == ""
	}
}

func (s *fakeServer) answerUserInfo(w http.ResponseWriter, r *http.Request) {
	token, ok := bearer(r)
	s.mu.Lock()
	known := s.tokens[token]
	body := s.userInfo
	s.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(body))
}

func bearer(r *http.Request) (string, bool) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return "", false
	}
	return h[len(prefix):], true
}

// signIn runs the browser's part: it opens the provider's authorization
// URL for flow and returns the code the server hands out.
func (s *fakeServer) signIn(t *testing.T, authURL string) string {
	t.Helper()
	if authURL == "" {
		t.Fatal("empty authorization URL")
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client().Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b [256]byte
	n, _ := resp.Body.Read(b[:])
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorize: HTTP %d %s", resp.StatusCode, b[:n])
	}
	return string(b[:n])
}
