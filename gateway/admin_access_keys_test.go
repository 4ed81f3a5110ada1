package gateway

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
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

var (
	newKeyID     = regexp.MustCompile(`id="new-key-id">(FGAK[A-Z2-7]{16})<`)
	newKeySecret = regexp.MustCompile(`id="new-key-secret">([^<]+)<`)
)

// The access keys page: owners only; the secret is on the page that made
// it and nowhere after.
func TestAdminAccessKeysPage(t *testing.T) {
	h := newAdminHarness(t)
	owner, csrf := h.signedInAdmin("carol", gwPassCarol)
	viewer, viewerCSRF := h.signedInAdmin("alice", gwPassAlice)
	if w := viewer.get("/admin/access-keys"); w.Code != http.StatusForbidden {
		t.Fatalf("a viewer opened the access keys page: %d", w.Code)
	}
	if w := viewer.post("/admin/access-keys", url.Values{"csrf": {viewerCSRF}, "name": {"x"}, "role": {"owner"}}); w.Code != http.StatusForbidden {
		t.Fatalf("a viewer created a key: %d", w.Code)
	}
	if w := viewer.get("/admin"); strings.Contains(w.Body.String(), `href="/admin/access-keys"`) {
		t.Error("the viewer's menu offers access keys")
	}
	if w := owner.post("/admin/access-keys", url.Values{"name": {"x"}, "role": {"viewer"}}); w.Code != http.StatusForbidden {
		t.Fatalf("a create without the CSRF token: %d", w.Code)
	}
	if w := owner.post("/admin/access-keys", url.Values{"csrf": {csrf}, "name": {"x"}, "role": {"root"}}); w.Code != http.StatusBadRequest ||
		!strings.Contains(w.Body.String(), "must be viewer, editor or owner") {
		t.Fatalf("a bad role: %d", w.Code)
	}
	w := owner.post("/admin/access-keys", url.Values{"csrf": {csrf}, "name": {"billing backend"}, "role": {"editor"}, "pool": {gwTeamID}})
	id := gwFind(t, newKeyID, w.Body.String())
	secret := html.UnescapeString(gwFind(t, newKeySecret, w.Body.String()))
	if w.Code != http.StatusCreated || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d, Cache-Control %q", w.Code, w.Header().Get("Cache-Control"))
	}
	list := owner.get("/admin/access-keys")
	if list.Code != http.StatusOK || !strings.Contains(list.Body.String(), id) || strings.Contains(list.Body.String(), secret) {
		t.Fatalf("the list: %d, shows the key %v, shows the secret %v", list.Code, strings.Contains(list.Body.String(), id), strings.Contains(list.Body.String(), secret))
	}
	if w := owner.post("/admin/access-keys/"+id+"/disable", url.Values{"csrf": {csrf}}); w.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d", w.Code)
	}
	if k, err := h.store.GetAccessKey(context.Background(), id); err != nil || !k.Disabled {
		t.Fatalf("after disable: %+v, %v", k, err)
	}
	rot := owner.post("/admin/access-keys/"+id+"/rotate", url.Values{"csrf": {csrf}})
	if newSecret := html.UnescapeString(gwFind(t, newKeySecret, rot.Body.String())); newSecret == secret {
		t.Error("rotation kept the secret")
	}
	if w := owner.post("/admin/access-keys/"+id+"/delete", url.Values{"csrf": {csrf}}); w.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", w.Code)
	}
	if w := owner.post("/admin/access-keys/"+id+"/delete", url.Values{"csrf": {csrf}}); w.Code != http.StatusNotFound {
		t.Fatalf("delete again: %d", w.Code)
	}
}
