package main

import (
	"net/http"
	"strings"
	"testing"
)

// upstreamAddressRefused: an admin aims a provider at the cloud metadata
// address. The real binary stores it (where an IdP lives is the
// operator's call) but its dialer never connects there, and the sign-in
// page says which address is refused and which key would allow it. The
// environment's file allows only loopback, where the peers run. A subtest
// of TestEndToEndAdminAPI, whose environment it shares.
func upstreamAddressRefused(t *testing.T, e *env) {
	if r := e.adminAPI(nil, http.MethodPost, "/admin/api/v1/providers",
		`{"id":"aimed","type":"oidc","issuer":"https://169.254.169.254/latest","client_id":"x"}`); r.status != http.StatusCreated {
		t.Fatalf("create provider: %d %s", r.status, r.body)
	}
	if r := e.adminAPI(nil, http.MethodPost, "/admin/api/v1/pools",
		`{"id":"us-west-1:3c4d5e6f-7081-4a1b-8c2d-3e4f5a6b7c8d","name":"aimed","providers":["aimed"]}`); r.status != http.StatusCreated {
		t.Fatalf("create pool: %d %s", r.status, r.body)
	}
	status, _, body := get(t, browser(t), e.url+"/login/aimed/aimed")
	want := "upstream address 169.254.169.254 is not allowed; add it to server.allow_upstream_cidrs"
	if status != http.StatusBadGateway || !strings.Contains(body, want) {
		t.Errorf("GET /login/aimed/aimed: HTTP %d, want 502 saying %q:\n%s", status, want, body)
	}
	// The allowed IdP on loopback still signs people in.
	if status, _, _ := get(t, browser(t), e.url+"/login/team/corp"); status != http.StatusOK && status != http.StatusFound {
		t.Errorf("GET /login/team/corp: HTTP %d", status)
	}
	if strings.Contains(e.logs.String(), `"level":"ERROR","msg":"request failed","code":"internal_error"`) {
		t.Error("the refusal was logged as an internal error")
	}
}
