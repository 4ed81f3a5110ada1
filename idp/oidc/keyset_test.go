package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"fedgate/gateway/testkit"
	"fedgate/idp"
)

func TestParseJWKSKeepsOnlyPublicSigningKeys(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	marshal := func(k jose.JSONWebKey) json.RawMessage {
		b, err := k.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name     string
		key      json.RawMessage
		wantKept bool
	}{
		{name: "public signing key", key: marshal(jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "sig", Use: "sig"}), wantKept: true},
		{name: "public key without use", key: marshal(jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "nouse"}), wantKept: true},
		{name: "encryption key", key: marshal(jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "enc", Use: "enc"})},
		{name: "private key", key: marshal(jose.JSONWebKey{Key: ecKey, KeyID: "priv"})},
		{name: "symmetric key", key: marshal(jose.JSONWebKey{Key: []byte("shared-secret-shared-secret"), KeyID: "oct"})},
		{name: "unknown key type", key: json.RawMessage(`{"kty":"OKP","crv":"Ed448","x":"AAAA","kid":"ed448"}`)},
		{name: "malformed entry", key: json.RawMessage(`{"kty":"RSA","n":42}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := json.Marshal(map[string]any{"keys": []json.RawMessage{tt.key}})
			if err != nil {
				t.Fatal(err)
			}
			keys, err := parseJWKS(body)
			if err != nil {
				t.Fatalf("parseJWKS: %v", err)
			}
			if kept := len(keys) == 1; kept != tt.wantKept {
				t.Fatalf("kept = %v, want %v", kept, tt.wantKept)
			}
		})
	}
	if _, err := parseJWKS([]byte("not json")); err == nil {
		t.Error("parseJWKS accepted a body that is not JSON")
	}
}

func TestJWKSFetchFailureIsUpstreamAndRateLimited(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits++
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	clock := newFakeClock()
	ks := newJWKSKeySet(srv.URL, srv.Client(), clock.Now, []string{"ES256"}, jwksRefetchInterval)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw := testkit.SignJWT(t, jose.ES256, jose.JSONWebKey{Key: key, KeyID: "k"}, map[string]any{"sub": "x"})
	for i := range 3 {
		if _, err := ks.VerifySignature(context.Background(), raw); !errors.Is(err, idp.ErrUpstream) {
			t.Fatalf("attempt %d: err = %v, want ErrUpstream", i, err)
		}
	}
	if hits != 1 {
		t.Fatalf("JWKS hits = %d, want 1 within the refetch interval", hits)
	}
}

// A key the IdP withdraws stops verifying within jwksMaxAge, although its
// kid stays known to the cache; while the IdP is down the last good set
// is kept.
func TestJWKSWithdrawnKeyStopsVerifying(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k", Use: "sig", Algorithm: "ES256"}
	var mu sync.Mutex
	published, up := true, true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !up {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		keys := []jose.JSONWebKey{}
		if published {
			keys = append(keys, jwk)
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys})
	}))
	defer srv.Close()
	clock := newFakeClock()
	ks := newJWKSKeySet(srv.URL, srv.Client(), clock.Now, []string{"ES256"}, jwksRefetchInterval)
	raw := testkit.SignJWT(t, jose.ES256, jose.JSONWebKey{Key: key, KeyID: "k"}, map[string]any{"sub": "x"})
	if _, err := ks.VerifySignature(context.Background(), raw); err != nil {
		t.Fatalf("published key: %v", err)
	}
	// IdP down past the max age: the last good set still verifies.
	mu.Lock()
	up = false
	mu.Unlock()
	clock.Advance(jwksMaxAge + time.Minute)
	if _, err := ks.VerifySignature(context.Background(), raw); err != nil {
		t.Fatalf("IdP down, last good set: %v", err)
	}
	// IdP back, key withdrawn: once the set is old again, the token fails.
	mu.Lock()
	up, published = true, false
	mu.Unlock()
	clock.Advance(jwksMaxAge + time.Minute)
	if _, err := ks.VerifySignature(context.Background(), raw); !errors.Is(err, idp.ErrInvalidToken) {
		t.Fatalf("withdrawn key: err = %v, want ErrInvalidToken", err)
	}
}

// jwksServer publishes jwk, then hangs every fetch once hang is set (until
// the test ends), or fails them while down is set; it counts fetches.
type jwksServer struct {
	url         string
	hang, down  atomic.Bool
	fetches     atomic.Int64
	releaseHang chan struct{}
}

func startJWKSServer(t *testing.T, jwk jose.JSONWebKey) (*jwksServer, *http.Client) {
	t.Helper()
	s := &jwksServer{releaseHang: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		switch {
		case s.hang.Load():
			select {
			case <-s.releaseHang:
			case <-r.Context().Done():
			}
			return
		case s.down.Load():
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	}))
	t.Cleanup(func() { close(s.releaseHang); srv.Close() })
	s.url = srv.URL
	return s, srv.Client()
}

func signedWithNewKey(t *testing.T, kid string) (jose.JSONWebKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: &key.PublicKey, KeyID: kid, Use: "sig", Algorithm: "ES256"},
		testkit.SignJWT(t, jose.ES256, jose.JSONWebKey{Key: key, KeyID: kid}, map[string]any{"sub": "x"})
}

// With the IdP hung past the max age, known keys keep verifying: requests
// wait at most jwksRefreshWait for the fresh set, none for the whole fetch,
// and once one gave up on it the rest do not wait at all.
func TestJWKSHungIdPKeepsKnownKeysVerifying(t *testing.T) {
	jwk, raw := signedWithNewKey(t, "k")
	idpSrv, client := startJWKSServer(t, jwk)
	clock := newFakeClock()
	ks := newJWKSKeySet(idpSrv.url, client, clock.Now, []string{"ES256"}, jwksRefetchInterval)
	if _, err := ks.VerifySignature(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	idpSrv.hang.Store(true)
	clock.Advance(jwksMaxAge + time.Minute)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			start := time.Now()
			if _, err := ks.VerifySignature(context.Background(), raw); err != nil {
				t.Errorf("known key while the IdP hangs: %v", err)
			}
			if took := time.Since(start); took > jwksRefreshWait+time.Second {
				t.Errorf("a request waited %s", took)
			}
		})
	}
	wg.Wait()
	if n := idpSrv.fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2 (the first and one refresh)", n)
	}
	start := time.Now()
	for range 50 {
		if _, err := ks.VerifySignature(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > jwksRefreshWait/2 {
		t.Errorf("50 verifications after a request gave up on the fetch took %s", took)
	}
}

// The last good set outlives the IdP for jwksStaleWindow past the max
// age, not longer.
func TestJWKSStaleWindowIsBounded(t *testing.T) {
	jwk, raw := signedWithNewKey(t, "k")
	idpSrv, client := startJWKSServer(t, jwk)
	clock := newFakeClock()
	ks := newJWKSKeySet(idpSrv.url, client, clock.Now, []string{"ES256"}, jwksRefetchInterval)
	if _, err := ks.VerifySignature(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	idpSrv.down.Store(true)
	clock.Advance(jwksMaxAge + jwksStaleWindow - time.Minute)
	if _, err := ks.VerifySignature(context.Background(), raw); err != nil {
		t.Fatalf("inside the stale window: %v", err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := ks.VerifySignature(context.Background(), raw); !errors.Is(err, idp.ErrUpstream) {
		t.Fatalf("past the stale window: err = %v, want ErrUpstream", err)
	}
	idpSrv.down.Store(false)
	clock.Advance(jwksRefetchInterval)
	if _, err := ks.VerifySignature(context.Background(), raw); err != nil {
		t.Fatalf("IdP back: %v", err)
	}
}

// Tokens with unknown kids share one fetch, wait for it at most
// jwksUnknownKidWait, and cannot start another within the refetch interval.
func TestJWKSUnknownKidWaitIsBoundedAndShared(t *testing.T) {
	jwk, raw := signedWithNewKey(t, "k")
	idpSrv, client := startJWKSServer(t, jwk)
	clock := newFakeClock()
	ks := newJWKSKeySet(idpSrv.url, client, clock.Now, []string{"ES256"}, jwksRefetchInterval)
	if _, err := ks.VerifySignature(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	idpSrv.hang.Store(true)
	clock.Advance(jwksRefetchInterval)
	var wg sync.WaitGroup
	for i := range 10 {
		_, forged := signedWithNewKey(t, fmt.Sprintf("forged-%d", i))
		wg.Go(func() {
			start := time.Now()
			if _, err := ks.VerifySignature(context.Background(), forged); !errors.Is(err, idp.ErrUpstream) {
				t.Errorf("unknown kid while the IdP hangs: err = %v, want ErrUpstream", err)
			}
			if took := time.Since(start); took > jwksUnknownKidWait+time.Second {
				t.Errorf("an unknown kid waited %s", took)
			}
		})
	}
	wg.Wait()
	if n := idpSrv.fetches.Load(); n != 2 {
		t.Errorf("%d JWKS fetches, want 2 (the first and one shared refetch)", n)
	}
}

// While a discovery attempt hangs on the IdP, other requests are refused
// at once instead of queueing behind it.
func TestDiscoveryInProgressDoesNotBlockOthers(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	clock := newFakeClock()
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	p, err := New(short, Config{ID: "slow", Issuer: srv.URL, ClientID: "c"}, srv.Client(), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(discoveryRetryInterval)
	hung, stop := context.WithCancel(context.Background())
	defer stop()
	started := make(chan struct{})
	go func() {
		close(started)
		_ = p.Ready(hung)
	}()
	<-started
	time.Sleep(100 * time.Millisecond) // the attempt above is now waiting on the IdP
	begin := time.Now()
	if err := p.Ready(context.Background()); !errors.Is(err, idp.ErrUpstream) {
		t.Fatalf("Ready during another attempt: %v, want ErrUpstream", err)
	}
	if took := time.Since(begin); took > 50*time.Millisecond {
		t.Fatalf("Ready waited %s behind the running attempt", took)
	}
}
