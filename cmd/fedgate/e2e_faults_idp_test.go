package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/testkit"
)

// startEnvBehindIdPProxy is the team pool with oidc-provider reached only
// through toxiproxy: the IdP's issuer is the proxy's address.
func startEnvBehindIdPProxy(t *testing.T) (*env, *peers.Proxy) {
	t.Helper()
	e := newEnv(t, teamAccountTrust)
	tp := peers.StartToxiproxy(t)
	listen := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	web := peers.OIDCClient{ID: e2eClientID, Secret: e2eClientSecret, RedirectURIs: []string{e.url + "/callback"}}
	e.idp = peers.StartOIDCWithIssuer(t, []peers.OIDCClient{web}, "http://"+listen)
	proxy := tp.Proxy(t, "idp", listen, e.idp.Direct)
	e.serve(fmt.Sprintf(`providers:
  - id: corp
    type: oidc
    issuer: %s
    client_id: %s
    client_secret: ${CORP_CLIENT_SECRET}
pools:
  - id: %s
    name: team
    providers: [corp]
%s
`, e.idp.Issuer, e2eClientID, poolGatewayID, readersRule(e.readerRole)))
	return e, proxy
}

// TestFaultsIdP: with the IdP slow (5 s of latency) and then down,
// tokens signed by its known key keep vending from the cached keys without
// waiting; tokens with made-up kids, which need a fetch, share one
// rate-limited fetch and are refused within the bounded wait (3 s) instead
// of queueing behind it for the IdP client's 10 s timeout.
func TestFaultsIdP(t *testing.T) {
	e, proxy := startEnvBehindIdPProxy(t)
	token := e.token("alice", e2eClientID, 15*time.Minute)
	client := loadClient(1)
	if o := do(client, e.vendRequest(token)()); o.status != http.StatusOK {
		t.Fatalf("healthy IdP: %+v", o)
	}
	// Past fedgate's 10 s floor between JWKS refetches, so the first
	// unknown kid of the slow phase does fetch through the slow proxy.
	fetched := time.Now()
	forgedKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	forged := func() *http.Request {
		now := time.Now()
		raw := testkit.SignJWT(t, jose.ES256, jose.JSONWebKey{Key: forgedKey, KeyID: fmt.Sprintf("forged-%d", n.Add(1))}, map[string]any{
			"iss": e.idp.Issuer, "aud": e2eClientID, "sub": "mallory", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		return e.vendRequest(raw)()
	}

	for _, phase := range []struct {
		name   string
		inject func(t *testing.T)
		heal   func(t *testing.T)
	}{
		{"slow", func(t *testing.T) {
			proxy.Toxic(t, "slow", "latency", "downstream", map[string]any{"latency": 5000})
		}, func(t *testing.T) { proxy.RemoveToxic(t, "slow") }},
		{"down", func(t *testing.T) { proxy.SetEnabled(t, false) }, func(t *testing.T) { proxy.SetEnabled(t, true) }},
	} {
		t.Run(phase.name, func(t *testing.T) {
			time.Sleep(time.Until(fetched.Add(10*time.Second + 500*time.Millisecond)))
			phase.inject(t)
			known := startLoad(4, e.vendRequest(token))
			unknown := startLoad(1, forged)
			time.Sleep(4 * time.Second)
			knownOuts, unknownOuts := known.stop(), unknown.stop()
			phase.heal(t)
			fetched = time.Now() // the fetch of this phase may have just ended
			for _, o := range knownOuts {
				if o.status != http.StatusOK {
					t.Errorf("known key, IdP %s: %+v", phase.name, o)
					break
				}
			}
			for _, o := range unknownOuts {
				if (o.status != http.StatusUnauthorized && o.status != http.StatusBadGateway) || o.took > 3*time.Second+time.Second {
					t.Errorf("unknown kid, IdP %s: HTTP %d %s after %s", phase.name, o.status, o.code, o.took)
					break
				}
			}
			if !slices.ContainsFunc(unknownOuts, func(o outcome) bool { return o.status == http.StatusBadGateway }) {
				t.Errorf("no unknown kid needed the IdP while it was %s: %v", phase.name, summary(unknownOuts))
			}
			if p99 := percentile(knownOuts, 99); p99 > 2*time.Second {
				t.Errorf("known-key vends p99 %s with the IdP %s", p99, phase.name)
			}
			t.Logf("IdP %s: %d known-key vends, p99 %s; %d unknown-kid refusals %v, slowest %s",
				phase.name, len(knownOuts), percentile(knownOuts, 99), len(unknownOuts), summary(unknownOuts), percentile(unknownOuts, 100))
		})
	}
}
