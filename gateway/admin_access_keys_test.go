package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fedgate/gateway/store"
)

// Access keys are an owner's: an editor's API token cannot make one; an
// owner creates, lists (never a secret), rotates (a new secret, once),
// disables and deletes them, each change audited.
func TestAdminAccessKeys(t *testing.T) {
	h := newAdminHarness(t)
	ctx := context.Background()
	if w := h.adminCall(http.MethodPost, "/admin/api/v1/access-keys", `{"name":"x","role":"viewer"}`); w.Code != http.StatusForbidden {
		t.Fatalf("the editor's token created a key: HTTP %d %s", w.Code, w.Body)
	}
	if w := h.adminCall(http.MethodGet, "/admin/api/v1/access-keys", ""); w.Code != http.StatusForbidden {
		t.Fatalf("the editor's token listed keys: HTTP %d %s", w.Code, w.Body)
	}
	b, csrf := h.signedInAdmin("carol", gwPassCarol)
	call := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		return b.send(req)
	}
	type key struct {
		ID       string `json:"id"`
		Role     string `json:"role"`
		Pool     string `json:"pool"`
		Disabled bool   `json:"disabled"`
		Secret   string `json:"secret_access_key"`
	}
	for body, want := range map[string]string{
		`{"name":"x","role":"admin"}`:                          "role: must be viewer, editor or owner",
		`{"name":"","role":"viewer"}`:                          "name: give 1 to 64",
		`{"name":"x","role":"viewer","pool":"us-east-1:0abc"}`: "There is no identity pool",
		`{"name":"x","role":"viewer","pool":"team"}`:           "pool: must be an identity pool id",
	} {
		if w := call(http.MethodPost, "/admin/api/v1/access-keys", body); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), want) {
			t.Errorf("create %s: HTTP %d %s; want 400 saying %q", body, w.Code, w.Body, want)
		}
	}
	w := call(http.MethodPost, "/admin/api/v1/access-keys", `{"name":"backend","role":"editor","pool":"`+gwTeamID+`"}`)
	var made key
	decodeBody(t, w, &made)
	if w.Code != http.StatusCreated || !strings.HasPrefix(made.ID, "FGAK") || len(made.ID) != 20 || len(made.Secret) != 40 || made.Pool != gwTeamID {
		t.Fatalf("create: HTTP %d %+v", w.Code, made)
	}
	if w := call(http.MethodGet, "/admin/api/v1/access-keys", ""); w.Code != http.StatusOK || strings.Contains(w.Body.String(), made.Secret) ||
		strings.Contains(w.Body.String(), "secret_access_key") || !strings.Contains(w.Body.String(), made.ID) {
		t.Fatalf("list: HTTP %d %s", w.Code, w.Body)
	}
	stored, err := h.store.GetAccessKey(ctx, made.ID)
	if err != nil || strings.Contains(string(stored.Sealed), made.Secret) {
		t.Fatalf("the stored secret is not sealed: %v", err)
	}
	var rotated key
	w = call(http.MethodPost, "/admin/api/v1/access-keys/"+made.ID+"/rotate", "")
	decodeBody(t, w, &rotated)
	if w.Code != http.StatusOK || rotated.Secret == "" || rotated.Secret == made.Secret {
		t.Fatalf("rotate: HTTP %d %+v", w.Code, rotated)
	}
	var disabled key
	w = call(http.MethodPost, "/admin/api/v1/access-keys/"+made.ID+"/disable", "")
	decodeBody(t, w, &disabled)
	if w.Code != http.StatusOK || !disabled.Disabled || disabled.Secret != "" {
		t.Fatalf("disable: HTTP %d %+v", w.Code, disabled)
	}
	if w := call(http.MethodDelete, "/admin/api/v1/access-keys/"+made.ID, ""); w.Code != http.StatusNoContent {
		t.Fatalf("delete: HTTP %d %s", w.Code, w.Body)
	}
	if w := call(http.MethodPost, "/admin/api/v1/access-keys/"+made.ID+"/enable", ""); w.Code != http.StatusNotFound {
		t.Fatalf("enable a deleted key: HTTP %d %s", w.Code, w.Body)
	}
	var reasons []string
	for _, e := range h.auditEntries(store.AuditQuery{Kind: store.AuditAdminChange, Text: made.ID}) {
		if e.Actor != "demo:carol" {
			t.Errorf("change by %q, want demo:carol", e.Actor)
		}
		reasons = append(reasons, e.Reason)
	}
	want := []string{"deleted", "disabled", "rotated", "created: role editor, pool " + gwTeamID}
	if len(reasons) != len(want) {
		t.Fatalf("audited changes %q, want %d", reasons, len(want))
	}
	for i, w := range want {
		if !strings.HasSuffix(reasons[i], w) {
			t.Errorf("audit[%d] = %q, want it to end with %q", i, reasons[i], w)
		}
	}
}
