package gateway

// The Cognito API's in-process harness: a real SQLite store, the real
// issuer, a real idp/oidc provider verifying tokens of an in-process OIDC
// IdP, the recording fake STS, the clock and a seeded random source for the
// server (so identity ids are reproducible), all from the test kit.
// The AWS SDK for Go's cognitoidentity client talks to the handler through
// an in-process transport, so its real serializers and error parsing run.
// End-to-end evidence with real peers is in cmd/fedgate/e2e_cognito_test.go.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	oidcidp "fedgate/idp/oidc"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	jose "github.com/go-jose/go-jose/v4"

	"fedgate/exchange"
	"fedgate/exchange/issuer"
	"fedgate/exchange/rules"
	"fedgate/exchange/secret"
	"fedgate/gateway/cognito"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
	"fedgate/gateway/testkit"
	"fedgate/gateway/testkit/fakests"
)

const (
	cogPoolID     = "us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11" // guests, classic flow, two rules
	cogClosedID   = "eu-west-1:1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d" // no guests, no classic flow
	cogUnknownID  = "us-east-1:00000000-0000-4000-8000-000000000000"
	cogWebClient  = "web-app"
	cogMobile     = "mobile-app"
	cogReaderRole = "arn:aws:iam::123456789012:role/reader"
	cogAdminRole  = "arn:aws:iam::123456789012:role/admin"
	cogGuestRole  = "arn:aws:iam::123456789012:role/guest"
	cogPublicURL  = "http://127.0.0.1:8080"
)

// cogUsers are the IdP's users and their claims.
var cogUsers = map[string]map[string]any{
	"alice": {"email": "alice@example.com", "groups": []any{"s3-readers"}, "department": "eng"},
	"carol": {"email": "carol@example.com", "groups": []any{"s3-readers", "admins"}, "department": "ops"},
	"bob":   {"email": "bob@example.com", "groups": []any{"sales"}, "department": "sales"},
}

// cogIdP is the test kit's IdP (plain HTTP, one RS256 key "k1") handing
// out tokens of cogUsers.
type cogIdP struct {
	*testkit.IdP
	now func() time.Time
}

func newCogIdP(t testing.TB, now func() time.Time) *cogIdP {
	t.Helper()
	return newCogIdPDiscovery(t, now, nil)
}

// newCogIdPDiscovery is newCogIdP with fields added to its discovery document.
func newCogIdPDiscovery(t testing.TB, now func() time.Time, discovery map[string]any) *cogIdP {
	t.Helper()
	return &cogIdP{IdP: testkit.NewIdP(t, testkit.IdPOptions{Keys: []testkit.KeySpec{{ID: "k1", Alg: jose.RS256}}, Discovery: discovery}), now: now}
}

// token signs an ID token for a user; extra claims override the defaults.
func (p *cogIdP) token(t testing.TB, sub, aud string, ttl time.Duration, extra map[string]any) string {
	t.Helper()
	now := p.now()
	claims := map[string]any{"iss": p.URL(), "sub": sub, "aud": aud, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	for k, v := range cogUsers[sub] {
		claims[k] = v
	}
	for k, v := range extra {
		claims[k] = v
	}
	return p.Sign("k1", claims)
}

// loginKey is the IdP's Logins key: host:port of its loopback issuer.
func (p *cogIdP) loginKey() string { return strings.TrimPrefix(p.URL(), "http://") }

// cogAnswer numbers credentials in the shape the golden files hold.
func cogAnswer(n int, _ fakests.Input) exchange.Credentials {
	return exchange.Credentials{
		AccessKeyID:     fmt.Sprintf("ASIACOGNITO%09d", n),
		SecretAccessKey: fmt.Sprintf("cognitoSecretKey/%08d/test", n),
		SessionToken:    fmt.Sprintf("IQoJb3JpZ2luX2VjECOGNITO%08d", n),
	}
}

// cogFaultStore injects store failures into identity calls.
type cogFaultStore struct {
	store.Store
	mu                 sync.Mutex
	createErr, lookErr error
}

func (s *cogFaultStore) GetOrCreateIdentity(ctx context.Context, k store.IdentityKey, newID string) (string, bool, error) {
	s.mu.Lock()
	err := s.createErr
	s.mu.Unlock()
	if err != nil {
		return "", false, err
	}
	return s.Store.GetOrCreateIdentity(ctx, k, newID)
}

func (s *cogFaultStore) LookupIdentity(ctx context.Context, id string) (*store.IdentityRecord, error) {
	s.mu.Lock()
	err := s.lookErr
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s.Store.LookupIdentity(ctx, id)
}

type cogHarness struct {
	t      testing.TB
	cfg    *config.File
	dbPath string
	clock  *testkit.Clock
	idp    *cogIdP
	sts    *fakests.STS
	store  *cogFaultStore
	hang   *hangStore // under store
	iss    *issuer.Issuer
	srv    *Server
	logs   *testkit.LogBuffer
	// keyID is the access key the golden case signed with, if any.
	keyID string
}

// cogConfig: pool "mobile" (guests, classic flow, all_matches over two
// rules, a session tag, two hours) and pool "closed" (none of those).
func cogConfig(issuerURL string) *config.File {
	readers := rules.RuleSpec{Name: "readers", Match: []rules.Condition{{Claim: "groups", Op: "equals", Value: "s3-readers"}}, Role: cogReaderRole}
	admins := rules.RuleSpec{Name: "admins", Match: []rules.Condition{{Claim: "groups", Op: "equals", Value: "admins"}}, Role: cogAdminRole}
	f := &config.File{
		// The IdP runs on loopback: the operator allows it.
		Server: config.Server{Listen: "127.0.0.1:8080", PublicURL: cogPublicURL, ReloadInterval: config.Duration(time.Hour),
			AllowUpstreamCIDRs: []string{"127.0.0.0/8", "::1/128"}},
		Keys: config.Keys{MasterKey: "set-by-harness"},
		Providers: []config.Provider{
			{ID: "corp", Type: config.ProviderOIDC, Settings: &oidcidp.Settings{Issuer: issuerURL, ClientID: cogWebClient, ExtraAudiences: []string{cogMobile}}},
		},
		Pools: []config.Pool{
			{ID: cogPoolID, Name: "mobile", Providers: []string{"corp"}, Resolution: rules.AllMatches,
				AllowGuests: true, UnauthenticatedRole: cogGuestRole, AllowClassicFlow: true, DurationSeconds: 7200,
				PrincipalTags: map[string]string{"department": "department"},
				Rules:         []rules.RuleSpec{readers, admins}},
			{ID: cogClosedID, Name: "closed", Providers: []string{"corp"}, Rules: []rules.RuleSpec{readers}},
		},
		Cognito: config.Cognito{RatePerAddress: 1000, BurstPerAddress: 1000, RatePerIdentity: 1000, BurstPerIdentity: 1000},
	}
	return f
}

func newCogHarness(t testing.TB, opts ...func(*config.File)) *cogHarness {
	t.Helper()
	return newCogHarnessDiscovery(t, nil, opts...)
}

// newCogHarnessDiscovery is newCogHarness whose IdP adds discovery to its
// discovery document.
func newCogHarnessDiscovery(t testing.TB, discovery map[string]any, opts ...func(*config.File)) *cogHarness {
	t.Helper()
	ctx := context.Background()
	h := &cogHarness{t: t, clock: testkit.NewClock(cogFixedNow), logs: &testkit.LogBuffer{}}
	h.idp = newCogIdPDiscovery(t, h.clock.Now, discovery)
	h.sts = fakests.New(h.clock.Now, cogAnswer)
	f := cogConfig(h.idp.URL())
	for _, o := range opts {
		o(f)
	}
	f.ApplyDefaults()
	if ps := f.Validate(); len(ps) > 0 {
		t.Fatalf("harness config invalid: %v", ps)
	}
	h.cfg = f
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.dbPath = t.TempDir() + "/fedgate.db"
	sq, err := store.OpenSQLite(ctx, h.dbPath, h.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sq.Close() })
	h.hang = &hangStore{Store: sq}
	h.store = &cogFaultStore{Store: h.hang}
	key := make([]byte, secret.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.Seed(ctx, sq, box, f, log); err != nil {
		t.Fatal(err)
	}
	h.iss, err = issuer.New(ctx, issuer.Options{URL: f.Server.PublicURL, Algorithm: f.Keys.Algorithm, TokenTTL: f.Keys.TokenTTL.D(),
		Keys: sq, Sealer: box, Now: h.clock.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	h.srv, err = New(ctx, Deps{Config: f, Store: h.store, Issuer: h.iss, Box: box, STS: h.sts,
		Upstream: upstreamClient(t, f, 5*time.Second), Logger: log, Now: h.clock.Now, Rand: testkit.NewRand(7)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// token is an upstream ID token for a user, for the web client, valid 5m.
func (h *cogHarness) token(user string) string {
	return h.idp.token(h.t, user, cogWebClient, 5*time.Minute, nil)
}

func (h *cogHarness) logins(user string) map[string]string {
	return map[string]string{h.idp.loginKey(): h.token(user)}
}

// cogResult is one raw answer of the API.
type cogResult struct {
	status int
	header http.Header
	body   []byte
}

func (r cogResult) errorType() string {
	var e struct {
		Type string `json:"__type"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Type
}

// call posts one operation with a JSON body (a string, or anything to marshal).
func (h *cogHarness) call(op string, body any) cogResult {
	h.t.Helper()
	raw, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		raw = string(b)
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(raw))
	req.Header.Set("Content-Type", cognito.ContentType)
	if op != "" {
		req.Header.Set("X-Amz-Target", cognito.TargetPrefix+op)
	}
	return h.do(req)
}

func (h *cogHarness) do(req *http.Request) cogResult {
	w := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(w, req)
	return cogResult{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// mustID runs GetId and returns the identity id.
func (h *cogHarness) mustID(pool string, logins map[string]string) string {
	h.t.Helper()
	body := map[string]any{"IdentityPoolId": pool}
	if logins != nil {
		body["Logins"] = logins
	}
	r := h.call("GetId", body)
	var out struct{ IdentityId string }
	if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil || out.IdentityId == "" {
		h.t.Fatalf("GetId: HTTP %d %s", r.status, r.body)
	}
	return out.IdentityId
}

// identities counts stored identities (refusals must not add any).
func (h *cogHarness) identities() int {
	h.t.Helper()
	return int(countIdentities(h.t, h.dbPath))
}

// sdk is the AWS SDK for Go's Cognito Identity client, wired to the
// handler in process; rec holds the last exchange on the wire.
func (h *cogHarness) sdk() (*cognitoidentity.Client, *cogWire) {
	w := &cogWire{h: h.srv.Handler()}
	return cognitoidentity.New(cognitoidentity.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("https://cognito-identity.fedgate.test"),
		HTTPClient: w, RetryMaxAttempts: 1,
	}), w
}

// cogWire is an in-process HTTP client that records the last request and
// response bodies.
type cogWire struct {
	h          http.Handler
	mu         sync.Mutex
	req, resp  []byte
	reqHeader  http.Header
	status     int
	respHeader http.Header
}

func (w *cogWire) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
	}
	in := req.Clone(req.Context())
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.RemoteAddr = "198.51.100.7:40000"
	in.RequestURI = in.URL.RequestURI()
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, in)
	w.mu.Lock()
	w.req, w.reqHeader, w.resp, w.status, w.respHeader = body, req.Header.Clone(), rec.Body.Bytes(), rec.Code, rec.Header().Clone()
	w.mu.Unlock()
	return rec.Result(), nil
}

// jwtPayload decodes a JWT's claims without verifying (tests verify
// signatures separately where it matters).
func jwtPayload(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// verifyMinted checks a token fedgate minted against its own JWKS.
func (h *cogHarness) verifyMinted(token string) map[string]any {
	h.t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		h.t.Fatal(err)
	}
	set := h.iss.JWKS()
	var lastErr error
	for _, k := range set.Keys {
		if _, err := jws.Verify(k); err == nil {
			return jwtPayload(h.t, token)
		} else {
			lastErr = err
		}
	}
	h.t.Fatalf("minted token does not verify with the gateway's JWKS: %v", errors.Join(lastErr))
	return nil
}
