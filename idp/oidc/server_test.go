package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	testClientID     = "fedgate-client"
	testClientSecret = "s3cret"
	testSubject      = "user-123"
)

// fakeClock is the injected clock shared by the test IdP and the provider.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// signingKey is one private key the test IdP may sign with.
type signingKey struct {
	kid string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func (k signingKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.key.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// authRequest is what /authorize recorded for one issued code.
type authRequest struct {
	clientID, redirectURI, nonce, challenge, scope string
}

// testIdP is an in-process OIDC provider: discovery, JWKS (RS256 and
// ES256 keys with kids), /authorize and a /token endpoint that enforces
// PKCE S256, plus userinfo.
type testIdP struct {
	t     testing.TB
	srv   *httptest.Server
	clock *fakeClock
	rsa   signingKey
	ec    signingKey

	mu            sync.Mutex
	published     []jose.JSONWebKey
	jwksHits      int
	discoveryDown bool
	codes         map[string]authRequest
	nextCode      int
	accessToken   string
	userinfo      map[string]any
	idTokenExtra  map[string]any // merged into ID tokens from /token
	tokenStatus   int            // non-zero: /token fails with this status
}

func newTestIdP(t testing.TB, clock *fakeClock) *testIdP {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	op := &testIdP{
		t:           t,
		clock:       clock,
		rsa:         signingKey{kid: "rsa-1", alg: jose.RS256, key: rsaKey},
		ec:          signingKey{kid: "ec-1", alg: jose.ES256, key: ecKey},
		codes:       map[string]authRequest{},
		accessToken: "access-token-xyz",
		userinfo:    map[string]any{"sub": testSubject, "department": "eng", "email": "userinfo@example.com"},
	}
	op.published = []jose.JSONWebKey{op.rsa.public(), op.ec.public()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("GET /authorize", op.authorize)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", op.userinfoHandler)
	op.srv = httptest.NewTLSServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (s *testIdP) issuer() string { return s.srv.URL }

func (s *testIdP) setDiscoveryDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discoveryDown = down
}

func (s *testIdP) publish(keys ...jose.JSONWebKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = append(s.published, keys...)
}

func (s *testIdP) hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jwksHits
}

func (s *testIdP) discovery(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	down := s.discoveryDown
	s.mu.Unlock()
	if down {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, map[string]any{
		"issuer":                                s.issuer(),
		"authorization_endpoint":                s.issuer() + "/authorize",
		"token_endpoint":                        s.issuer() + "/token",
		"userinfo_endpoint":                     s.issuer() + "/userinfo",
		"jwks_uri":                              s.issuer() + "/jwks",
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (s *testIdP) jwks(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.jwksHits++
	set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), s.published...)}
	s.mu.Unlock()
	writeJSON(w, set)
}

// authorize stands in for the user signing in: it records the request and
// redirects straight back with a code.
func (s *testIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE S256 and response_type=code required", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.nextCode++
	code := fmt.Sprintf("code-%d", s.nextCode)
	s.codes[code] = authRequest{
		clientID:    q.Get("client_id"),
		redirectURI: q.Get("redirect_uri"),
		nonce:       q.Get("nonce"),
		challenge:   q.Get("code_challenge"),
		scope:       q.Get("scope"),
	}
	s.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (s *testIdP) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	status := s.tokenStatus
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, `{"error":"server_error"}`, status)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id != testClientID || secret != testClientSecret {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	s.mu.Lock()
	req, found := s.codes[r.PostForm.Get("code")]
	delete(s.codes, r.PostForm.Get("code")) // codes are single use
	extra := s.idTokenExtra
	s.mu.Unlock()
	if !found || req.redirectURI != r.PostForm.Get("redirect_uri") || req.clientID != id {
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge {
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	claims := s.claims()
	claims["nonce"] = req.nonce
	claims["email"] = "idtoken@example.com"
	for k, v := range extra {
		claims[k] = v
	}
	writeJSON(w, map[string]any{
		"access_token": s.accessToken,
		"token_type":   "Bearer",
		"expires_in":   300,
		"id_token":     s.sign(s.rsa, claims),
	})
}

func (s *testIdP) userinfoHandler(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.accessToken {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	info := s.userinfo
	s.mu.Unlock()
	writeJSON(w, info)
}

// claims returns a valid claim set for the current clock.
func (s *testIdP) claims() map[string]any {
	now := s.clock.Now()
	return map[string]any{
		"iss":    s.issuer(),
		"sub":    testSubject,
		"aud":    testClientID,
		"iat":    now.Unix(),
		"exp":    now.Add(5 * time.Minute).Unix(),
		"groups": []string{"admins", "devs"},
	}
}

func (s *testIdP) sign(k signingKey, claims map[string]any) string {
	s.t.Helper()
	return signJWT(s.t, k.alg, jose.JSONWebKey{Key: k.key, KeyID: k.kid}, claims)
}

func signJWT(t testing.TB, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// unsignedJWT builds an alg=none token, which go-jose refuses to sign.
func unsignedJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
}

func tokenError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
