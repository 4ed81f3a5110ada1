package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/testkit"
)

// refusalOf127 is what a refused loopback IdP says, wherever it surfaces.
const refusalOf127 = "upstream address 127.0.0.1 is not allowed; add it to server.allow_upstream_cidrs"

func withoutUpstreamAllowance(f *config.File) { f.Server.AllowUpstreamCIDRs = nil }

// An OIDC provider whose issuer is on a loopback port is not contacted
// without the operator's allowance: the sign-in start page (the
// provider's Ready) and the Cognito API say why, as a 502 and an
// ExternalServiceException naming the address and the key, never a 500.
func TestLoopbackIssuerRefusedWithoutAllowance(t *testing.T) {
	h := newCogHarness(t, withoutUpstreamAllowance)
	jwksBefore := h.idp.JWKSHits()

	w := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/login/mobile/corp", nil))
	if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), refusalOf127) {
		t.Errorf("GET /login: HTTP %d, want 502 naming the refusal:\n%s", w.Code, w.Body)
	}

	r := h.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": h.logins("alice")})
	var e struct{ Message string }
	_ = json.Unmarshal(r.body, &e)
	if r.status == http.StatusInternalServerError || r.errorType() != "ExternalServiceException" || !strings.Contains(e.Message, refusalOf127) {
		t.Errorf("GetId: HTTP %d %s, want ExternalServiceException naming the refusal", r.status, r.body)
	}
	if n := h.identities(); n != 0 {
		t.Errorf("%d identities stored", n)
	}
	if h.idp.JWKSHits() != jwksBefore {
		t.Error("the refused IdP's JWKS was fetched")
	}
	for _, rec := range h.logs.Records(t) {
		if rec["code"] == core.CodeInternal || rec["error_type"] == "InternalErrorException" {
			t.Errorf("logged as an internal error: %v", rec)
		}
	}

	// With the allowance the same provider works.
	allowed := newCogHarness(t)
	if id := allowed.mustID(cogPoolID, allowed.logins("alice")); id == "" {
		t.Fatal("no identity with the allowance")
	}
}

// An editor aims a provider at a loopback IdP through the admin API: the
// provider is stored (the address is the operator's call, not a
// validation error) but never contacted, and simulate says why. No admin
// API takes the allowance: it is a server setting, read from the file.
func TestEditorCannotAimProviderAtGatewayNetwork(t *testing.T) {
	h := newAdminHarness(t)
	target := testkit.NewIdP(t, testkit.IdPOptions{})
	provider := `{"id":"ext","type":"oidc","issuer":"` + target.URL() + `","client_id":"c"%s}`

	w := h.adminCall(http.MethodPost, "/admin/api/v1/providers", strings.Replace(provider, "%s", `,"allow_upstream_cidrs":["0.0.0.0/0"]`, 1))
	if w.Code != http.StatusBadRequest {
		t.Errorf("provider with allow_upstream_cidrs: HTTP %d %s, want 400", w.Code, w.Body)
	}
	if w := h.adminCall(http.MethodPut, "/admin/api/v1/mappings", `{"server":{"allow_upstream_cidrs":["0.0.0.0/0"]},"providers":[],"pools":[]}`); w.Code != http.StatusForbidden {
		t.Errorf("editor PUT /mappings: HTTP %d %s, want 403", w.Code, w.Body)
	}
	if w := h.adminCall(http.MethodPost, "/admin/api/v1/providers", strings.Replace(provider, "%s", "", 1)); w.Code != http.StatusCreated {
		t.Fatalf("create provider: HTTP %d %s", w.Code, w.Body)
	}
	body, etag := poolWithProvider(t, h, "ext")
	if w := h.adminCall(http.MethodPut, "/admin/api/v1/pools/team", body, "If-Match", etag); w.Code != http.StatusOK {
		t.Fatalf("add provider to pool: HTTP %d %s", w.Code, w.Body)
	}
	h.reload()
	token := target.Sign("rsa-1", map[string]any{"iss": target.URL(), "sub": "x", "aud": "c", "exp": h.clock.Now().Unix() + 300, "iat": h.clock.Now().Unix()})
	w = h.adminCall(http.MethodPost, "/admin/api/v1/simulate", `{"pool":"team","provider":"ext","id_token":"`+token+`"}`)
	if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), refusalOf127) {
		t.Errorf("simulate: HTTP %d %s, want 502 naming the refusal", w.Code, w.Body)
	}
	if target.JWKSHits() != 0 {
		t.Error("the refused IdP was contacted")
	}
	if got := h.srv.cfg.Server.AllowUpstreamCIDRs; len(got) != 0 {
		t.Errorf("allowance changed to %v", got)
	}
}

// poolWithProvider is the team pool's document with one more provider,
// and the ETag it was read with.
func poolWithProvider(t *testing.T, h *gwHarness, id string) (string, string) {
	t.Helper()
	w := h.adminCall(http.MethodGet, "/admin/api/v1/pools/team", "")
	var pool map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &pool); err != nil {
		t.Fatalf("GET pool: %v %s", err, w.Body)
	}
	pool["providers"] = append(pool["providers"].([]any), id)
	b, _ := json.Marshal(pool)
	return string(b), w.Header().Get("ETag")
}
