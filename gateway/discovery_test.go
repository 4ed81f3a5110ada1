package gateway

import (
	"encoding/json"
	"fedgate/gateway/core"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// IAM fetches discovery and the JWKS it names: for the root issuer and for
// a pool with its own issuer path; a pool without one has neither.
func TestDiscoveryAndJWKS(t *testing.T) {
	h := newGWHarnessURL(t, "https://fedgate.example.com")
	for _, tc := range []struct {
		path, issuer string
		status       int
	}{
		{"/.well-known/openid-configuration", "https://fedgate.example.com", 200},
		{"/pools/solo/.well-known/openid-configuration", "https://fedgate.example.com/pools/solo", 200},
		{"/pools/team/.well-known/openid-configuration", "", 404},             // no own issuer
		{"/pools/" + gwSoloID + "/.well-known/openid-configuration", "", 404}, // by id: names only
		{"/pools/nope/.well-known/openid-configuration", "", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := h.do(httptest.NewRequest(http.MethodGet, tc.path, nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.status != 200 {
				return
			}
			var doc struct {
				Issuer  string   `json:"issuer"`
				JWKSURI string   `json:"jwks_uri"`
				Algs    []string `json:"id_token_signing_alg_values_supported"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Issuer != tc.issuer || doc.JWKSURI != tc.issuer+"/.well-known/jwks.json" || len(doc.Algs) == 0 {
				t.Errorf("discovery %+v", doc)
			}
			if w.Header().Get("Cache-Control") == "no-store" {
				t.Error("discovery should be cacheable")
			}
		})
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/.well-known/jwks.json", 200},
		{"/pools/solo/.well-known/jwks.json", 200},
		{"/pools/team/.well-known/jwks.json", 404},
		{"/pools/nope/.well-known/jwks.json", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := h.do(httptest.NewRequest(http.MethodGet, tc.path, nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.status != 200 {
				if !strings.Contains(w.Body.String(), "<code>"+core.CodeNotFound+"</code>") {
					t.Errorf("not a 404 page: %s", w.Body)
				}
				return
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != 1 || set.Keys[0].KeyID != h.iss.SigningKeyID() || !set.Keys[0].IsPublic() || set.Keys[0].Algorithm != "ES256" {
				t.Errorf("JWKS %+v", set.Keys)
			}
		})
	}
}

func TestReadyz(t *testing.T) {
	h := newGWHarness(t)
	w := h.do(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("ready: %d %s", w.Code, w.Body)
	}
	var ready struct{ Status, Version, Go string }
	if err := json.Unmarshal(w.Body.Bytes(), &ready); err != nil || ready.Status != "ready" || ready.Version == "" || ready.Go != runtime.Version() {
		t.Errorf("readyz = %s (%v), want status, version and Go version", w.Body, err)
	}
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	h.logs.Reset()
	if w := h.do(httptest.NewRequest(http.MethodGet, "/readyz", nil)); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"reason":"store unavailable"`) {
		t.Fatalf("store closed: %d %s", w.Code, w.Body)
	}
	if len(h.logs.AtLevel(t, "WARN")) != 1 {
		t.Errorf("want one WARN saying why:\n%s", h.logs)
	}
	// Liveness does not depend on the store.
	if w := h.do(httptest.NewRequest(http.MethodGet, "/healthz", nil)); w.Code != http.StatusOK {
		t.Fatalf("healthz: %d", w.Code)
	}
}
