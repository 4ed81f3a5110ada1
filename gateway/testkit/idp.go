package testkit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is one signing key of an IdP.
type Key struct {
	ID  string // kid
	Alg jose.SignatureAlgorithm
	Key crypto.Signer
}

// Public is the key as the IdP's JWKS publishes it.
func (k Key) Public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Key.Public(), KeyID: k.ID, Algorithm: string(k.Alg), Use: "sig"}
}

// Sign signs claims as a JWT with k, naming its kid in the header.
func (k Key) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	return SignJWT(t, k.Alg, jose.JSONWebKey{Key: k.Key, KeyID: k.ID}, claims)
}

// SignPayload signs payload bytes as they are, naming k's kid.
func (k Key) SignPayload(t testing.TB, payload []byte) string {
	t.Helper()
	return SignPayload(t, "JWT", k.Alg, jose.JSONWebKey{Key: k.Key, KeyID: k.ID}, payload)
}

// WithMembers is claims as a JSON object with the raw members first
// (`"Sub":"x"`, a name twice) placed before its own: last wins in
// encoding/json, so the map's values are the ones a lax reader keeps
// unless a test puts raw members last with WithMembersLast.
func WithMembers(t testing.TB, claims map[string]any, raw string) []byte {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("{"+raw+","), b[1:]...)
}

// WithMembersLast is WithMembers with the raw members after the map's.
func WithMembersLast(t testing.TB, claims map[string]any, raw string) []byte {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return append(b[:len(b)-1], []byte(","+raw+"}")...)
}

// KeySpec names a key NewIdP generates.
type KeySpec struct {
	ID  string
	Alg jose.SignatureAlgorithm // RS256 or ES256
}

// IdPOptions shape an IdP; the zero value serves plain HTTP with an RS256
// key "rsa-1" and an ES256 key "ec-1".
type IdPOptions struct {
	TLS  bool      // serve HTTPS; Client trusts its certificate
	Keys []KeySpec // the keys, all published
	// Discovery adds to or overrides fields of the discovery document,
	// e.g. the endpoints a test serves with Handle.
	Discovery map[string]any
}

// IdP is an in-process OIDC provider over httptest: discovery at
// /.well-known/openid-configuration, its JWKS at /jwks, and ID tokens
// signed on request. Discovery names the usual /authorize, /token and
// /userinfo endpoints; tests that drive them serve them with Handle.
type IdP struct {
	t    testing.TB
	srv  *httptest.Server
	mux  *http.ServeMux
	keys []Key
	doc  map[string]any

	mu        sync.Mutex
	published []jose.JSONWebKey
	jwksHits  int
	down      bool
}

// NewIdP starts an IdP; it stops when the test ends.
func NewIdP(t testing.TB, o IdPOptions) *IdP {
	t.Helper()
	specs := o.Keys
	if len(specs) == 0 {
		specs = []KeySpec{{ID: "rsa-1", Alg: jose.RS256}, {ID: "ec-1", Alg: jose.ES256}}
	}
	p := &IdP{t: t, mux: http.NewServeMux()}
	var algs []string
	for _, s := range specs {
		k := Key{ID: s.ID, Alg: s.Alg, Key: generate(t, s.Alg)}
		p.keys = append(p.keys, k)
		p.published = append(p.published, k.Public())
		algs = append(algs, string(s.Alg))
	}
	p.mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	p.mux.HandleFunc("GET /jwks", p.jwks)
	if o.TLS {
		p.srv = httptest.NewTLSServer(p.mux)
	} else {
		p.srv = httptest.NewServer(p.mux)
	}
	t.Cleanup(p.srv.Close)
	iss := p.srv.URL
	p.doc = map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/jwks",
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"userinfo_endpoint":                     iss + "/userinfo",
		"id_token_signing_alg_values_supported": algs,
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
	}
	maps.Copy(p.doc, o.Discovery)
	return p
}

func generate(t testing.TB, alg jose.SignatureAlgorithm) crypto.Signer {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case jose.RS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		err = fmt.Errorf("testkit: no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// URL is the issuer: the server's base URL.
func (p *IdP) URL() string { return p.srv.URL }

// Client is an HTTP client that reaches the IdP (and trusts it over TLS).
func (p *IdP) Client() *http.Client { return p.srv.Client() }

// Handle serves an extra endpoint, e.g. "POST /token".
func (p *IdP) Handle(pattern string, h http.HandlerFunc) { p.mux.HandleFunc(pattern, h) }

// Key returns the key with kid id; an unknown id fails the test.
func (p *IdP) Key(id string) Key {
	for _, k := range p.keys {
		if k.ID == id {
			return k
		}
	}
	p.t.Fatalf("testkit: IdP has no key %q", id)
	return Key{}
}

// Sign signs claims as a JWT with the key kid, naming it in the header.
func (p *IdP) Sign(kid string, claims map[string]any) string {
	p.t.Helper()
	return p.Key(kid).Sign(p.t, claims)
}

// Publish adds keys to the JWKS, e.g. a rotated key.
func (p *IdP) Publish(keys ...jose.JSONWebKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = append(p.published, keys...)
}

// JWKSHits counts the JWKS fetches so far.
func (p *IdP) JWKSHits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwksHits
}

// SetDiscoveryDown makes discovery answer 503 (or answer again).
func (p *IdP) SetDiscoveryDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

func (p *IdP) discovery(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	WriteJSON(w, p.doc)
}

func (p *IdP) jwks(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	p.jwksHits++
	set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), p.published...)}
	p.mu.Unlock()
	WriteJSON(w, set)
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// SignJWT signs claims with key (a private key, or a jose.JSONWebKey to
// name its kid) as a compact JWS of type JWT.
func SignJWT(t testing.TB, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	t.Helper()
	return SignTyped(t, "JWT", alg, key, claims)
}

// SignTyped is SignJWT with another typ header, e.g. "at+jwt".
func SignTyped(t testing.TB, typ string, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return SignPayload(t, typ, alg, key, payload)
}

// SignPayload signs payload exactly as given, for payloads a map cannot
// express: duplicate names, members in a chosen order.
func SignPayload(t testing.TB, typ string, alg jose.SignatureAlgorithm, key any, payload []byte) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
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
