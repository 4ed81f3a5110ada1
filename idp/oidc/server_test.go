package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"fedgate/gateway/testkit"
)

const (
	testClientID     = "fedgate-client"
	testClientSecret = "s3cret"
	testSubject      = "user-123"
)

// newFakeClock is the injected clock shared by the test IdP and the
// provider.
func newFakeClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// authRequest is what /authorize recorded for one issued code.
type authRequest struct {
	clientID, redirectURI, nonce, challenge, scope string
}

// testIdP is the test kit's OIDC IdP (HTTPS; RS256 and ES256 keys with
// kids) plus /authorize and a /token endpoint that enforces PKCE S256,
// and userinfo.
type testIdP struct {
	*testkit.IdP
	t     testing.TB
	clock *testkit.Clock
	rsa   testkit.Key
	ec    testkit.Key

	mu           sync.Mutex
	codes        map[string]authRequest
	nextCode     int
	accessToken  string
	userinfo     map[string]any
	idTokenExtra map[string]any // merged into ID tokens from /token
	idTokenRaw   string         // raw JSON members appended to ID tokens from /token
	tokenStatus  int            // non-zero: /token fails with this status
}

func newTestIdP(t testing.TB, clock *testkit.Clock) *testIdP {
	t.Helper()
	kit := testkit.NewIdP(t, testkit.IdPOptions{TLS: true, Discovery: map[string]any{
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"code_challenge_methods_supported":      []string{"S256"},
	}})
	op := &testIdP{
		IdP:         kit,
		t:           t,
		clock:       clock,
		rsa:         kit.Key("rsa-1"),
		ec:          kit.Key("ec-1"),
		codes:       map[string]authRequest{},
		accessToken: "access-token-xyz",
		userinfo:    map[string]any{"sub": testSubject, "department": "eng", "email": "userinfo@example.com"},
	}
	kit.Handle("GET /authorize", op.authorize)
	kit.Handle("POST /token", op.token)
	kit.Handle("GET /userinfo", op.userinfoHandler)
	return op
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
	extra, raw := s.idTokenExtra, s.idTokenRaw
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
	idToken := s.rsa.Sign(s.t, claims)
	if raw != "" {
		idToken = s.rsa.SignPayload(s.t, testkit.WithMembersLast(s.t, claims, raw))
	}
	testkit.WriteJSON(w, map[string]any{
		"access_token": s.accessToken,
		"token_type":   "Bearer",
		"expires_in":   300,
		"id_token":     idToken,
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
	testkit.WriteJSON(w, info)
}

// claims returns a valid claim set for the current clock.
func (s *testIdP) claims() map[string]any {
	now := s.clock.Now()
	return map[string]any{
		"iss":    s.URL(),
		"sub":    testSubject,
		"aud":    testClientID,
		"iat":    now.Unix(),
		"exp":    now.Add(5 * time.Minute).Unix(),
		"groups": []string{"admins", "devs"},
	}
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
