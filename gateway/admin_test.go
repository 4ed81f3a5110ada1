package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"fedgate/exchange/rules"
	"fedgate/gateway/admin"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

const (
	// gwAdminCookie is the admin session cookie's name (before the
	// __Host- prefix a secure public URL adds).
	gwAdminCookie    = "fedgate-admin"
	gwAdminToken     = "adm-0123456789abcdef0123456789abcdef"
	gwViewerToken    = "view-0123456789abcdef0123456789abcdef" // not configured: always refused
	gwAdminCarolPass = gwPassCarol
)

// withAdmin enables /admin: demo users in group admins are owners, in dev
// viewers; the API token is an editor.
func withAdmin(f *config.File) {
	sum := sha256.Sum256([]byte(gwAdminToken))
	f.Admin = config.Admin{
		Providers: []string{"demo"},
		Rules: []config.AdminRule{
			{Name: "owners", Match: []rules.Condition{{Claim: "groups", Op: "equals", Value: "admins"}}, Role: config.AdminOwner},
			{Name: "viewers", Match: []rules.Condition{{Claim: "groups", Op: "equals", Value: "dev"}}, Role: config.AdminViewer},
		},
		APITokenEnv:    "FEDGATE_ADMIN_TOKEN",
		APITokenSHA256: hex.EncodeToString(sum[:]),
		APITokenRole:   config.AdminEditor,
		SessionTTL:     config.Duration(config.DefaultAdminSessionTTL),
	}
}

func newAdminHarness(t *testing.T) *gwHarness {
	t.Helper()
	return newGWHarness(t, withAdmin)
}

// adminCall sends an admin API request with the API token.
func (h *gwHarness) adminCall(method, path, body string, header ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+gwAdminToken)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return h.do(req)
}

// adminBrowser signs user in to /admin through the demo provider.
func (h *gwHarness) adminBrowser(user, pass string) (*gwBrowser, *httptest.ResponseRecorder) {
	h.t.Helper()
	b := h.browser()
	w := b.get("/admin/login/demo")
	if w.Code != http.StatusOK {
		h.t.Fatalf("admin login form: %d %s", w.Code, w.Body)
	}
	state := gwFind(h.t, gwStatePattern, w.Body.String())
	return b, b.post("/admin/login/demo", url.Values{"state": {state}, "username": {user}, "password": {pass}})
}

var gwAdminCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (h *gwHarness) signedInAdmin(user, pass string) (*gwBrowser, string) {
	h.t.Helper()
	b, w := h.adminBrowser(user, pass)
	if w.Code != http.StatusSeeOther {
		h.t.Fatalf("admin sign-in as %s: %d %s", user, w.Code, w.Body)
	}
	home := b.get("/admin")
	if home.Code != http.StatusOK {
		h.t.Fatalf("GET /admin as %s: %d %s", user, home.Code, home.Body)
	}
	return b, gwFind(h.t, gwAdminCSRF, home.Body.String())
}

func decodeBody(t testing.TB, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("body is not JSON (%d): %v\n%s", w.Code, err, w.Body)
	}
}

// createCorp2 creates the OIDC provider corp2 with clientSecret and returns
// its ETag.
func (h *gwHarness) createCorp2(t *testing.T, clientSecret string) string {
	t.Helper()
	w := h.adminCall(http.MethodPost, "/admin/api/v1/providers", `{"id":"corp2","type":"oidc","issuer":"https://idp.example.com","client_id":"c","client_secret":"`+clientSecret+`"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	return w.Header().Get("ETag")
}

// problemAnswer is the admin API's answer to an invalid write.
type problemAnswer struct {
	Code     string          `json:"code"`
	Problems []admin.Problem `json:"problems"`
}

// byPath is the answer's problem messages by path.
func (a problemAnswer) byPath() map[string]string {
	paths := map[string]string{}
	for _, p := range a.Problems {
		paths[p.Path] = p.Message
	}
	return paths
}

// gwStoredDoc is a stored configuration version, opened.
type gwStoredDoc struct {
	version int64
	m       config.Mappings
}

// latestDoc is the latest stored configuration version.
func (h *gwHarness) latestDoc() gwStoredDoc {
	h.t.Helper()
	v, err := h.store.LatestConfig(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	m, err := core.OpenMappings(h.box, v)
	if err != nil {
		h.t.Fatal(err)
	}
	return gwStoredDoc{version: v.Version, m: m}
}

func (h *gwHarness) auditEntries(q store.AuditQuery) []store.AuditEntry {
	h.t.Helper()
	es, err := h.store.ListAudit(context.Background(), q)
	if err != nil {
		h.t.Fatal(err)
	}
	return es
}

func TestAdminRefusesEveryoneElse(t *testing.T) {
	h := newAdminHarness(t)
	anon := h.browser()
	tests := []struct {
		name   string
		req    func() *httptest.ResponseRecorder
		status int
		code   string
	}{
		{"UI without session", func() *httptest.ResponseRecorder { return anon.get("/admin") }, 401, ""},
		{"UI page without session", func() *httptest.ResponseRecorder { return anon.get("/admin/pools/team") }, 401, ""},
		{"API without credentials", func() *httptest.ResponseRecorder {
			return h.do(httptest.NewRequest(http.MethodGet, "/admin/api/v1/pools", nil))
		}, 401, core.CodeUnauthorized},
		{"API with a wrong token", func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodGet, "/admin/api/v1/pools", "", "Authorization", "Bearer "+gwViewerToken)
		}, 401, core.CodeUnauthorized},
		{"API with a user's ID token", func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodGet, "/admin/api/v1/pools", "", "Authorization", "Bearer "+gwTokenCarol)
		}, 401, core.CodeUnauthorized},
		{"API with a Basic header", func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodGet, "/admin/api/v1/pools", "", "Authorization", "Basic "+gwAdminToken)
		}, 401, core.CodeUnauthorized},
		{"API write without credentials", func() *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodDelete, "/admin/api/v1/pools/team", nil)
			req.Header.Set("If-Match", "*")
			return h.do(req)
		}, 401, core.CodeUnauthorized},
		{"session cookie forged", func() *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, "/admin/api/v1/pools", nil)
			req.AddCookie(&http.Cookie{Name: gwAdminCookie, Value: strings.Repeat("a", 64)})
			return h.do(req)
		}, 401, core.CodeUnauthorized},
		{"login through a provider admins may not use", func() *httptest.ResponseRecorder { return anon.get("/admin/login/app") }, 404, "-"},
	}
	before := h.state()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.req()
			if w.Code != tt.status {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			switch {
			case tt.code == "-":
			case tt.code != "":
				if e := gwAPIError(t, w); e.Code != tt.code {
					t.Errorf("code %q, want %q", e.Code, tt.code)
				}
			case !strings.Contains(w.Body.String(), "Sign in with Demo users"):
				t.Errorf("401 page does not offer the admin sign-in:\n%s", w.Body)
			}
		})
	}
	if after := h.state(); after != before {
		t.Errorf("refusals changed the store: %+v -> %+v", before, after)
	}
}

func TestAdminSignInRoles(t *testing.T) {
	h := newAdminHarness(t)
	t.Run("a person no admin rule names is refused and audited", func(t *testing.T) {
		b, w := h.adminBrowser("bob", gwPassBob)
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "not an admin") {
			t.Fatalf("bob: HTTP %d\n%s", w.Code, w.Body)
		}
		if len(b.cookies) != 0 {
			for k := range b.cookies {
				if strings.Contains(k, gwAdminCookie) {
					t.Errorf("refused sign-in set the admin cookie")
				}
			}
		}
		if got := b.get("/admin"); got.Code != http.StatusUnauthorized {
			t.Errorf("after the refusal GET /admin = %d, want 401", got.Code)
		}
		es := h.auditEntries(store.AuditQuery{Kind: store.AuditAdminSignIn, Result: store.AuditRefused})
		if len(es) != 1 || es[0].Subject != "bob" {
			t.Errorf("audit of the refused sign-in = %+v", es)
		}
	})
	t.Run("wrong password shows the form again", func(t *testing.T) {
		_, w := h.adminBrowser("carol", "nope")
		if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "Wrong username or password") {
			t.Errorf("HTTP %d\n%s", w.Code, w.Body)
		}
	})
	for _, tt := range []struct{ user, pass, role string }{{"carol", gwPassCarol, "owner"}, {"alice", gwPassAlice, "viewer"}} {
		t.Run(tt.user+" is "+tt.role, func(t *testing.T) {
			b, _ := h.signedInAdmin(tt.user, tt.pass)
			w := b.get("/admin/api/v1/me")
			var me map[string]string
			decodeBody(t, w, &me)
			if me["role"] != tt.role || me["actor"] != "demo:"+tt.user {
				t.Errorf("me = %v", me)
			}
		})
	}
	t.Run("an admin flow cannot finish a pool sign-in", func(t *testing.T) {
		b := h.browser()
		w := b.get("/admin/login/demo")
		state := gwFind(t, gwStatePattern, w.Body.String())
		w = b.post("/login/team/demo", url.Values{"state": {state}, "username": {"carol"}, "password": {gwPassCarol}})
		if w.Code != http.StatusBadRequest {
			t.Errorf("admin state on the pool login: HTTP %d, want 400", w.Code)
		}
	})
	t.Run("sign out ends the session", func(t *testing.T) {
		b, csrf := h.signedInAdmin("carol", gwPassCarol)
		if w := b.post("/admin/logout", url.Values{"csrf": {csrf}}); w.Code != http.StatusSeeOther {
			t.Fatalf("logout: %d", w.Code)
		}
		if w := b.get("/admin"); w.Code != http.StatusUnauthorized {
			t.Errorf("after logout GET /admin = %d", w.Code)
		}
	})
}

func TestAdminCSRF(t *testing.T) {
	h := newAdminHarness(t)
	b, csrf := h.signedInAdmin("carol", gwPassCarol)
	before := h.state()
	form := url.Values{"name": {"x"}, "role": {gwReader}, "claim_0": {"sub"}, "op_0": {"exists"}}
	cases := []struct {
		name   string
		send   func() *httptest.ResponseRecorder
		status int
	}{
		{"form post without the token", func() *httptest.ResponseRecorder { return b.post("/admin/pools/team/rules/_new", form) }, 403},
		{"form post with a wrong token", func() *httptest.ResponseRecorder {
			f := url.Values{"csrf": {"0" + csrf[1:]}}
			for k, v := range form {
				f[k] = v
			}
			return b.post("/admin/pools/team/rules/_new", f)
		}, 403},
		{"form post from another site", func() *httptest.ResponseRecorder {
			f := url.Values{"csrf": {csrf}}
			for k, v := range form {
				f[k] = v
			}
			b.origin = "https://evil.example.com"
			defer func() { b.origin = "" }()
			return b.post("/admin/pools/team/rules/_new", f)
		}, 403},
		{"JSON write with the session but no X-CSRF-Token", func() *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, "/admin/api/v1/pools/team/rules", strings.NewReader(`{"role":"`+gwReader+`"}`))
			req.Header.Set("Content-Type", "application/json")
			return b.send(req)
		}, 403},
		{"restore without the token", func() *httptest.ResponseRecorder { return b.post("/admin/history/1/restore", nil) }, 403},
		{"reading needs no token", func() *httptest.ResponseRecorder { return b.get("/admin") }, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if w := c.send(); w.Code != c.status {
				t.Errorf("HTTP %d, want %d\n%s", w.Code, c.status, w.Body)
			}
		})
	}
	if after := h.state(); after != before {
		t.Errorf("refused posts changed the configuration: %+v -> %+v", before, after)
	}
	// With the token the same post is accepted.
	f := url.Values{"csrf": {csrf}}
	for k, v := range form {
		f[k] = v
	}
	if w := b.post("/admin/pools/team/rules/_new", f); w.Code != http.StatusSeeOther {
		t.Errorf("post with the token: %d\n%s", w.Code, w.Body)
	}
	req := httptest.NewRequest(http.MethodPost, "/admin/api/v1/pools/team/rules", strings.NewReader(`{"name":"y","role":"`+gwReader+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	if w := b.send(req); w.Code != http.StatusCreated {
		t.Errorf("JSON with X-CSRF-Token: %d %s", w.Code, w.Body)
	}
}

// Every resource: create, read with ETag, stale ETag refused, missing
// If-Match refused, validation problems at their paths, viewer refused.
func TestAdminAPIResources(t *testing.T) {
	h := newAdminHarness(t)
	viewer, viewerCSRF := h.signedInAdmin("alice", gwPassAlice)
	newPoolID := "eu-central-1:11111111-2222-4333-8444-555555555555"
	resources := []struct {
		name       string
		collection string
		item       string
		create     string
		update     string
		invalid    string // an update that validation refuses
		wantPath   string // where the problem is reported
	}{
		{
			name: "provider", collection: "/admin/api/v1/providers", item: "/admin/api/v1/providers/corp2",
			create:  `{"id":"corp2","type":"oidc","issuer":"https://idp.example.com","client_id":"c","client_secret":"s3cret-value"}`,
			update:  `{"id":"corp2","type":"oidc","display_name":"Corp two","issuer":"https://idp.example.com","client_id":"c"}`,
			invalid: `{"id":"corp2","type":"oidc","issuer":"ftp://x","client_id":""}`, wantPath: "providers[2].client_id",
		},
		{
			name: "pool", collection: "/admin/api/v1/pools", item: "/admin/api/v1/pools/new-pool",
			create:  `{"id":"` + newPoolID + `","name":"new-pool","providers":["demo"],"rules":[{"name":"all","match":[{"claim":"sub","op":"exists"}],"role":"` + gwReader + `"}]}`,
			update:  `{"id":"` + newPoolID + `","name":"new-pool","display_name":"New pool","providers":["demo"]}`,
			invalid: `{"id":"` + newPoolID + `","name":"new-pool","providers":["nope"],"duration_seconds":5}`, wantPath: "pools[2].duration_seconds",
		},
		{
			name: "rule", collection: "/admin/api/v1/pools/team/rules", item: "/admin/api/v1/pools/team/rules/2",
			create:  `{"name":"sales","match":[{"claim":"groups","op":"equals","value":"sales"}],"role":"` + gwSolo + `"}`,
			update:  `{"name":"sales","match":[{"claim":"groups","op":"any_of","values":["sales","marketing"]}],"role":"` + gwSolo + `"}`,
			invalid: `{"name":"sales","match":[{"claim":"groups","op":"regex","value":"("}],"role":"not-an-arn"}`, wantPath: "pools[0].rules[2].role",
		},
	}
	for _, r := range resources {
		t.Run(r.name, func(t *testing.T) {
			before := h.state()
			if w := viewer.send(jsonReq(http.MethodPost, r.collection, r.create)); w.Code != http.StatusForbidden {
				t.Errorf("viewer create: %d, want 403", w.Code)
			}
			w := h.adminCall(http.MethodPost, r.collection, r.create)
			if w.Code != http.StatusCreated {
				t.Fatalf("create: %d %s", w.Code, w.Body)
			}
			if h.state().configVersion != before.configVersion+1 {
				t.Errorf("create did not make exactly one version")
			}
			etag := w.Header().Get("ETag")
			if got := h.adminCall(http.MethodGet, r.item, ""); got.Code != 200 || got.Header().Get("ETag") != etag {
				t.Fatalf("GET after create: %d etag %q, want %q", got.Code, got.Header().Get("ETag"), etag)
			}
			// Missing If-Match: 428; viewer: 403; stale: 412 after another change.
			if w := h.adminCall(http.MethodPut, r.item, r.update); w.Code != http.StatusPreconditionRequired {
				t.Errorf("PUT without If-Match: %d, want 428", w.Code)
			}
			req := jsonReq(http.MethodPut, r.item, r.update)
			req.Header.Set("If-Match", etag)
			if w := viewer.send(req); w.Code != http.StatusForbidden {
				t.Errorf("viewer PUT: %d, want 403", w.Code)
			}
			w = h.adminCall(http.MethodPut, r.item, r.update, "If-Match", etag)
			if w.Code != http.StatusOK {
				t.Fatalf("PUT with the current ETag: %d %s", w.Code, w.Body)
			}
			fresh := w.Header().Get("ETag")
			if fresh == etag {
				t.Errorf("ETag did not change with the resource")
			}
			v := h.state().configVersion
			if w := h.adminCall(http.MethodPut, r.item, r.create, "If-Match", etag); w.Code != http.StatusPreconditionFailed {
				t.Errorf("PUT with a stale ETag: %d, want 412 %s", w.Code, w.Body)
			}
			w = h.adminCall(http.MethodPut, r.item, r.invalid, "If-Match", fresh)
			if w.Code != http.StatusUnprocessableEntity {
				t.Fatalf("invalid PUT: %d, want 422 %s", w.Code, w.Body)
			}
			var pr problemAnswer
			decodeBody(t, w, &pr)
			if _, found := pr.byPath()[r.wantPath]; pr.Code != admin.CodeInvalidMappings || !found {
				t.Errorf("problems = %+v, want one at %s", pr.Problems, r.wantPath)
			}
			if h.state().configVersion != v {
				t.Errorf("refused writes stored a version")
			}
			if w := h.adminCall(http.MethodDelete, r.item, "", "If-Match", etag); w.Code != http.StatusPreconditionFailed {
				t.Errorf("DELETE with a stale ETag: %d, want 412", w.Code)
			}
			// A viewer's DELETE, with the current ETag and the CSRF token, is
			// refused for the role alone.
			if w := sessionJSON(viewer, viewerCSRF, http.MethodDelete, r.item, "", "If-Match", fresh); w.Code != http.StatusForbidden || gwAPIError(t, w).Code != admin.CodeForbidden {
				t.Errorf("viewer DELETE: %d %s, want 403 forbidden", w.Code, w.Body)
			}
			if h.state().configVersion != v {
				t.Errorf("a viewer's DELETE stored a version")
			}
			if w := h.adminCall(http.MethodDelete, r.item, "", "If-Match", fresh); w.Code != http.StatusNoContent {
				t.Errorf("DELETE: %d %s", w.Code, w.Body)
			}
			if w := h.adminCall(http.MethodGet, r.item, ""); w.Code != http.StatusNotFound {
				t.Errorf("GET after DELETE: %d", w.Code)
			}
		})
	}
}

func jsonReq(method, path, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func TestAdminAPIRefusals(t *testing.T) {
	h := newAdminHarness(t)
	etag := h.adminCall(http.MethodGet, "/admin/api/v1/pools/team", "").Header().Get("ETag")
	before := h.state()
	tests := []struct {
		name         string
		method, path string
		body         string
		header       []string
		status       int
		code         string
	}{
		{"editor token cannot restore", http.MethodPost, "/admin/api/v1/versions/1/restore", "", nil, 403, admin.CodeForbidden},
		{"editor token cannot replace the document", http.MethodPut, "/admin/api/v1/mappings", `{}`, []string{"If-Match", "*"}, 403, admin.CodeForbidden},
		{"unknown field", http.MethodPost, "/admin/api/v1/pools/team/rules", `{"role":"` + gwReader + `","admin":true}`, nil, 400, core.CodeInvalidRequest},
		{"not JSON", http.MethodPost, "/admin/api/v1/providers", `{`, nil, 400, core.CodeInvalidRequest},
		{"wrong content type", http.MethodPost, "/admin/api/v1/providers", `x`, []string{"Content-Type", "text/plain"}, 415, core.CodeInvalidRequest},
		{"duplicate provider", http.MethodPost, "/admin/api/v1/providers", `{"id":"demo","type":"oidc"}`, nil, 409, admin.CodeConflict},
		{"pool id cannot change", http.MethodPut, "/admin/api/v1/pools/team", `{"id":"` + gwSoloID + `","name":"team","providers":["demo"]}`, []string{"If-Match", etag}, 400, core.CodeInvalidRequest},
		{"unknown pool", http.MethodGet, "/admin/api/v1/pools/nope", "", nil, 404, core.CodeNotFound},
		{"rule out of range", http.MethodGet, "/admin/api/v1/pools/team/rules/9", "", nil, 404, core.CodeNotFound},
		{"reorder needs a permutation", http.MethodPut, "/admin/api/v1/pools/team/rules", `{"order":[0,0]}`, []string{"If-Match", etag}, 400, core.CodeInvalidRequest},
		{"reorder needs If-Match", http.MethodPut, "/admin/api/v1/pools/team/rules", `{"order":[1,0]}`, nil, 428, admin.CodePreconditionRequired},
		{"no such version", http.MethodGet, "/admin/api/v1/versions/99", "", nil, 404, core.CodeNotFound},
		{"bad audit limit", http.MethodGet, "/admin/api/v1/audit?limit=0", "", nil, 400, core.CodeInvalidRequest},
		{"bad audit date", http.MethodGet, "/admin/api/v1/audit?since=yesterday", "", nil, 400, core.CodeInvalidRequest},
		{"deleting a provider a pool uses", http.MethodDelete, "/admin/api/v1/providers/app", "", []string{"If-Match", "*"}, 422, admin.CodeInvalidMappings},
		{"editor token cannot delete the admin sign-in provider", http.MethodDelete, "/admin/api/v1/providers/demo", "", []string{"If-Match", "*"}, 403, admin.CodeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := h.adminCall(tt.method, tt.path, tt.body, tt.header...)
			if w.Code != tt.status {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			var e struct{ Code, Message string }
			decodeBody(t, w, &e)
			if e.Code != tt.code || e.Message == "" {
				t.Errorf("code %q (%q), want %q", e.Code, e.Message, tt.code)
			}
			if strings.Contains(w.Body.String(), "store:") || strings.Contains(w.Body.String(), "sql") {
				t.Errorf("refusal leaks a private cause: %s", w.Body)
			}
		})
	}
	if after := h.state(); after != before {
		t.Errorf("refusals changed the store: %+v -> %+v", before, after)
	}
	// Reorder with the right ETag works and changes every rule's ETag.
	w := h.adminCall(http.MethodPut, "/admin/api/v1/pools/team/rules", `{"order":[1,0]}`, "If-Match", etag)
	if w.Code != http.StatusOK {
		t.Fatalf("reorder: %d %s", w.Code, w.Body)
	}
	var rl struct {
		Rules []struct {
			Data rules.RuleSpec `json:"data"`
		} `json:"rules"`
	}
	decodeBody(t, w, &rl)
	if len(rl.Rules) != 2 || rl.Rules[0].Data.Name != "devs" || rl.Rules[1].Data.Name != "admins" {
		t.Errorf("after reorder: %+v", rl)
	}
}

// Client secrets are write-only: never shown, kept by the placeholder.
func TestAdminSecretsAreWriteOnly(t *testing.T) {
	h := newAdminHarness(t)
	const secretValue = "very-secret-client-value"
	etag := h.createCorp2(t, secretValue)
	b, _ := h.signedInAdmin("carol", gwPassCarol)
	for _, path := range []string{"/admin/api/v1/providers/corp2", "/admin/api/v1/providers", "/admin/api/v1/mappings", "/admin/api/v1/versions/2", "/admin/providers/corp2", "/admin/history/2"} {
		got := b.get(path)
		if got.Code != 200 {
			t.Errorf("GET %s: %d", path, got.Code)
		}
		if strings.Contains(got.Body.String(), secretValue) {
			t.Errorf("GET %s shows the client secret", path)
		}
	}
	storedSecret := func() string {
		cur := h.latestDoc()
		return oidcSettings(&cur.m.Providers[core.FindProvider(&cur.m, "corp2")]).ClientSecret
	}
	for _, body := range []string{
		`{"id":"corp2","type":"oidc","display_name":"A","issuer":"https://idp.example.com","client_id":"c","client_secret":"••••"}`,
		`{"id":"corp2","type":"oidc","display_name":"B","issuer":"https://idp.example.com","client_id":"c"}`,
	} {
		w := h.adminCall(http.MethodPut, "/admin/api/v1/providers/corp2", body, "If-Match", etag)
		if w.Code != 200 {
			t.Fatalf("PUT: %d %s", w.Code, w.Body)
		}
		etag = w.Header().Get("ETag")
		if got := storedSecret(); got != secretValue {
			t.Errorf("after PUT %s the stored secret is %q, want it kept", body, got)
		}
	}
	w := h.adminCall(http.MethodPut, "/admin/api/v1/providers/corp2", `{"id":"corp2","type":"oidc","display_name":"B","issuer":"https://idp.example.com","client_id":"c","client_secret":"new-one"}`, "If-Match", etag)
	if w.Code != 200 || storedSecret() != "new-one" {
		t.Errorf("replacing the secret: %d, stored %q", w.Code, storedSecret())
	}
	// The version diff says the secret changed without showing it.
	var v admin.VersionDiff
	decodeBody(t, h.adminCall(http.MethodGet, fmt.Sprintf("/admin/api/v1/versions/%d", h.state().configVersion), ""), &v)
	if len(v.Diff) != 1 || v.Diff[0].Path != "providers[corp2].client_secret" || v.Diff[0].Old != "(secret)" || v.Diff[0].New != "(secret)" {
		t.Errorf("diff of a secret change = %+v", v.Diff)
	}
}

func TestAdminSimulate(t *testing.T) {
	h := newAdminHarness(t)
	before := h.state()
	calls := len(h.sts.WebIdentityCalls())
	tests := []struct {
		name    string
		body    string
		status  int
		granted bool
		roles   []string
		trace   []string
	}{
		{"claims of a dev", `{"pool":"team","claims":{"sub":"x","groups":["dev"],"team":"blue"}}`, 200, true, []string{gwReader},
			[]string{`groups: no element equals "admins"`, `groups[0]="dev" equals "dev"`}},
		{"claims of an admin dev get both roles", `{"pool":"team","claims":{"sub":"x","groups":["dev","admins"]}}`, 200, true, []string{gwAdmin, gwReader}, nil},
		{"claims that match nothing", `{"pool":"team","claims":{"sub":"x","groups":["sales"]}}`, 200, false, nil, []string{"no rule matched; denied"}},
		{"a verified token", `{"pool":"team","id_token":"` + gwTokenAlice + `"}`, 200, true, []string{gwReader}, nil},
		{"a forged token", `{"pool":"team","id_token":"` + gwTokenForged + `"}`, 401, false, nil, nil},
		{"both claims and token", `{"pool":"team","claims":{},"id_token":"` + gwTokenAlice + `"}`, 400, false, nil, nil},
		{"no pool", `{"claims":{}}`, 400, false, nil, nil},
		{"unknown pool", `{"pool":"nope","claims":{}}`, 404, false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := h.adminCall(http.MethodPost, "/admin/api/v1/simulate", tt.body)
			if w.Code != tt.status {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				return
			}
			var res admin.SimResult
			decodeBody(t, w, &res)
			if res.Granted != tt.granted || len(res.Grants) != len(tt.roles) {
				t.Fatalf("granted %v with %d grants, want %v %v", res.Granted, len(res.Grants), tt.granted, tt.roles)
			}
			for i, g := range res.Grants {
				if g.Role != tt.roles[i] {
					t.Errorf("grant %d = %s, want %s", i, g.Role, tt.roles[i])
				}
				if !strings.Contains(g.TrustPolicy, "sts:AssumeRoleWithWebIdentity") || !strings.Contains(g.TrustPolicy, gwTeamID) {
					t.Errorf("grant %d trust policy lacks the action or audience: %s", i, g.TrustPolicy)
				}
				if g.DurationSeconds != 3600 {
					t.Errorf("duration %d", g.DurationSeconds)
				}
			}
			var trace strings.Builder
			for _, st := range res.Steps {
				fmt.Fprintf(&trace, "%d %s %v: %s\n", st.Index, st.Rule, st.Matched, st.Detail)
			}
			for _, want := range tt.trace {
				if !strings.Contains(trace.String(), want) {
					t.Errorf("trace lacks %q: %s", want, trace.String())
				}
			}
		})
	}
	w := h.adminCall(http.MethodPost, "/admin/api/v1/simulate", `{"pool":"team","claims":{"sub":"x","groups":["dev"],"team":"blue"}}`)
	var res admin.SimResult
	decodeBody(t, w, &res)
	if res.Grants[0].Tags["team"] != "blue" {
		t.Errorf("session tags = %v, want team=blue", res.Grants[0].Tags)
	}
	if after := h.state(); after != before || len(h.sts.WebIdentityCalls()) != calls {
		t.Errorf("simulate stored or vended something: %+v -> %+v, STS calls %d -> %d", before, after, calls, len(h.sts.WebIdentityCalls()))
	}
}

func TestAdminHistoryAndRestore(t *testing.T) {
	h := newAdminHarness(t)
	b, csrf := h.signedInAdmin("carol", gwPassCarol)
	w := b.post("/admin/pools/team/rules/_new", url.Values{"csrf": {csrf}, "name": {"sales"}, "role": {gwSolo},
		"claim_0": {"groups"}, "op_0": {"equals"}, "value_0": {"sales"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("add rule: %d %s", w.Code, w.Body)
	}
	v := h.state().configVersion
	var vd admin.VersionDiff
	decodeBody(t, h.adminCall(http.MethodGet, fmt.Sprintf("/admin/api/v1/versions/%d", v), ""), &vd)
	want := map[string]string{"pools[team].rules[2].name": "sales", "pools[team].rules[2].role": gwSolo,
		"pools[team].rules[2].match[0].claim": "groups", "pools[team].rules[2].match[0].value": "sales", "pools[team].rules[2].match[0].op": "equals"}
	if len(vd.Diff) != len(want) {
		t.Errorf("diff = %+v", vd.Diff)
	}
	for _, d := range vd.Diff {
		if d.Op != "added" || want[d.Path] != d.New {
			t.Errorf("diff line %+v unexpected", d)
		}
	}
	if vd.Author != "carol@example.com" || vd.Source != admin.Source || !vd.Live || !strings.Contains(vd.Comment, "sales") {
		t.Errorf("version meta = %+v", vd.VersionView)
	}
	// bob now gets the solo role; after restoring version v-1 he is refused again.
	if w := h.browser().signInCreds("team", "bob", gwPassBob); w.Code != http.StatusOK {
		t.Fatalf("bob after the new rule: %d\n%s", w.Code, w.Body)
	}
	if w := b.post(fmt.Sprintf("/admin/history/%d/restore", v-1), url.Values{"csrf": {csrf}}); w.Code != http.StatusSeeOther {
		t.Fatalf("restore: %d %s", w.Code, w.Body)
	}
	if got := h.state().configVersion; got != v+1 {
		t.Errorf("restore made version %d, want %d", got, v+1)
	}
	if w := h.browser().signIn("team", "bob", gwPassBob); w.Code != http.StatusForbidden {
		t.Errorf("bob after the restore: %d, want 403", w.Code)
	}
	decodeBody(t, h.adminCall(http.MethodGet, fmt.Sprintf("/admin/api/v1/versions/%d", v+1), ""), &vd)
	if len(vd.Diff) != len(want) || vd.Diff[0].Op != "removed" || vd.Comment != fmt.Sprintf("restored version %d", v-1) {
		t.Errorf("restore diff = %+v %q", vd.Diff, vd.Comment)
	}
	es := h.auditEntries(store.AuditQuery{Kind: store.AuditAdminChange})
	if len(es) != 2 || es[0].Version != v+1 || es[1].Version != v || es[0].Actor != "demo:carol" {
		t.Errorf("admin change audit = %+v", es)
	}
}

// The UI shows each validation problem next to its field, and a conflict
// to the second of two editors.
func TestAdminUIProblemsAndConflicts(t *testing.T) {
	h := newAdminHarness(t)
	b, csrf := h.signedInAdmin("carol", gwPassCarol)
	page := b.get("/admin/pools/team/rules/0")
	etag := html.UnescapeString(gwFind(t, regexp.MustCompile(`name="etag" value="([^"]+)"`), page.Body.String()))
	w := b.post("/admin/pools/team/rules/0", url.Values{"csrf": {csrf}, "etag": {etag}, "name": {"admins"}, "role": {"arn:nope"},
		"claim_0": {"groups"}, "op_0": {"regex"}, "value_0": {"("}, "duration_seconds": {"60"}})
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("invalid rule: %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`name="role" value="arn:nope"`,          // the admin's input is kept
		`not an IAM role ARN`,                   // next to the role field
		`60 is outside 900..43200`,              // next to the duration
		`name="value_0" id="value_0" value="("`, // the condition row kept
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?s)id="value_0".*?field-error[^>]*>[^<]*regex`).MatchString(body) {
		t.Errorf("the regex problem is not next to its condition row")
	}
	// Two editors open the same rule; the second save is a conflict.
	b2, csrf2 := h.signedInAdmin("carol", gwPassCarol)
	save := func(br *gwBrowser, csrf, role string) *httptest.ResponseRecorder {
		return br.post("/admin/pools/team/rules/0", url.Values{"csrf": {csrf}, "etag": {etag}, "name": {"admins"}, "role": {role},
			"claim_0": {"groups"}, "op_0": {"equals"}, "value_0": {"admins"}})
	}
	if w := save(b, csrf, gwSolo); w.Code != http.StatusSeeOther {
		t.Fatalf("first editor: %d %s", w.Code, w.Body)
	}
	v := h.state().configVersion
	w = save(b2, csrf2, gwReader)
	if w.Code != http.StatusPreconditionFailed || !strings.Contains(w.Body.String(), "edit conflict") {
		t.Fatalf("second editor: %d\n%s", w.Code, w.Body)
	}
	if h.state().configVersion != v {
		t.Errorf("the conflicting save was stored")
	}
}

// Every admin page renders for an owner and for a viewer (who sees no
// save buttons).
func TestAdminPagesRender(t *testing.T) {
	h := newAdminHarness(t)
	owner, csrf := h.signedInAdmin("carol", gwPassCarol)
	viewer, _ := h.signedInAdmin("alice", gwPassAlice)
	if w := owner.post("/admin/simulate", url.Values{"csrf": {csrf}, "pool": {"team"}, "input": {"claims"}, "claims": {`{"sub":"z","groups":["dev"]}`}}); w.Code != 200 || !strings.Contains(w.Body.String(), "Decision trace") {
		t.Errorf("simulate page: %d", w.Code)
	}
	pages := []string{"/admin", "/admin/providers/demo", "/admin/providers/_new", "/admin/pools/team", "/admin/pools/_new",
		"/admin/pools/team/rules/0", "/admin/pools/team/rules/_new", "/admin/simulate", "/admin/history", "/admin/history/1", "/admin/audit", "/admin/audit?q=carol&kind=admin_sign_in"}
	for _, p := range pages {
		for _, who := range []struct {
			name string
			b    *gwBrowser
		}{{"owner", owner}, {"viewer", viewer}} {
			w := who.b.get(p)
			if w.Code != http.StatusOK {
				t.Errorf("%s GET %s: %d\n%s", who.name, p, w.Code, w.Body)
				continue
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q", p, w.Header().Get("Cache-Control"))
			}
			hasSave := strings.Contains(w.Body.String(), `type="submit">Save`) || strings.Contains(w.Body.String(), `>Add rule<`)
			if who.name == "viewer" && hasSave {
				t.Errorf("viewer sees a save button on %s", p)
			}
			if got := navBadge(t, w.Body.String()); got != who.name {
				t.Errorf("%s on %s: the navigation badge says %q", who.name, p, got)
			}
			if readOnly := strings.Contains(w.Body.String(), `id="read-only"`); readOnly != (who.name == "viewer") {
				t.Errorf("%s on %s: read-only note shown = %v", who.name, p, readOnly)
			}
		}
	}
	// A rule form re-rendered with a bad role ARN still names the admin.
	w := owner.post("/admin/pools/team/rules/_new", url.Values{"csrf": {csrf}, "name": {"x"},
		"claim_0": {"groups"}, "op_0": {"equals"}, "value_0": {"dev"}, "role": {"arn:aws:iam::123456789012:role/typed-by-mistake x"}})
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad ARN: %d\n%s", w.Code, w.Body)
	}
	if got := navBadge(t, w.Body.String()); got != "owner" {
		t.Errorf("after a bad ARN the navigation badge says %q", got)
	}
}

// navBadge is the admin role the navigation bar shows.
func navBadge(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<span class="who">.*?<span class="badge role-([^"]*)">([^<]*)</span>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no navigation badge on the page:\n%.2000s", page)
	}
	if m[1] != m[2] {
		t.Errorf("badge class %q but text %q", m[1], m[2])
	}
	return m[2]
}

// Vends and refusals are audited without the token or the credentials.
func TestAdminAuditOfVends(t *testing.T) {
	h := newAdminHarness(t)
	if w := h.api(gwTokenAlice, `{"pool":"team"}`); w.Code != 200 {
		t.Fatalf("vend: %d %s", w.Code, w.Body)
	}
	if w := h.api(gwTokenBob, `{"pool":"team"}`); w.Code != 403 {
		t.Fatalf("bob: %d", w.Code)
	}
	if w := h.api(gwTokenCarol, `{"pool":"team","role_arn":"arn:aws:iam::123456789012:role/other"}`); w.Code != 403 {
		t.Fatalf("carol: %d", w.Code)
	}
	es := h.auditEntries(store.AuditQuery{Kind: store.AuditVend})
	if len(es) != 3 {
		t.Fatalf("vend audit = %+v", es)
	}
	want := []struct{ subject, result, reason, role string }{
		{"app|carol", store.AuditRefused, core.CodeRoleNotEntitled, "arn:aws:iam::123456789012:role/other"},
		{"app|bob", store.AuditRefused, core.CodeNoMatchingRule, ""},
		{"app|alice", store.AuditOK, "rule devs", gwReader},
	}
	for i, w := range want {
		e := es[i]
		if e.Subject != w.subject || e.Result != w.result || e.Reason != w.reason || e.Role != w.role || e.Pool != gwTeamID || e.Provider != "app" || e.RequestID == "" || e.Source == "" {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
	}
	if es[2].IdentityID == "" || !strings.HasPrefix(es[2].IdentityID, "us-east-1:") {
		t.Errorf("vend entry identity id = %q", es[2].IdentityID)
	}
	// Search and export; nothing secret anywhere.
	w := h.adminCall(http.MethodGet, "/admin/api/v1/audit/export?result=refused", "")
	lines := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-ndjson" || len(lines) != 2 {
		t.Fatalf("export: %d %q %d lines\n%s", w.Code, w.Header().Get("Content-Type"), len(lines), w.Body)
	}
	for _, l := range lines {
		var e store.AuditEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Result != store.AuditRefused {
			t.Errorf("export line %q: %v", l, err)
		}
	}
	all := h.adminCall(http.MethodGet, "/admin/api/v1/audit/export", "").Body.String()
	for _, secret := range []string{gwTokenAlice, gwTokenBob, "fakeSecretAccessKey", "FAKESESSIONTOKEN", "ASIAFAKE"} {
		if strings.Contains(all, secret) {
			t.Errorf("the audit log contains %q", secret)
		}
	}
	w = h.adminCall(http.MethodGet, "/admin/api/v1/audit?q=APP%7CBOB", "")
	var got struct{ Entries []store.AuditEntry }
	decodeBody(t, w, &got)
	if len(got.Entries) != 1 || got.Entries[0].Subject != "app|bob" {
		t.Errorf("search = %+v", got.Entries)
	}
}

// 50 editors adding rules to one pool at once: every accepted change is a
// version of its own with exactly one audit entry; none is lost.
func TestAdminConcurrentEditorsLoseNothing(t *testing.T) {
	h := newAdminHarness(t)
	start := h.state().configVersion
	const editors = 50
	var wg sync.WaitGroup
	versions := make([]string, editors)
	codes := make([]int, editors)
	for i := range editors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := h.adminCall(http.MethodPost, "/admin/api/v1/pools/team/rules",
				fmt.Sprintf(`{"name":"editor-%d","match":[{"claim":"sub","op":"equals","value":"u%d"}],"role":"%s"}`, i, i, gwSolo))
			codes[i], versions[i] = w.Code, w.Header().Get(admin.HeaderVersion)
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range editors {
		if codes[i] != http.StatusCreated {
			t.Errorf("editor %d: HTTP %d", i, codes[i])
		}
		if seen[versions[i]] {
			t.Errorf("version %s reported twice", versions[i])
		}
		seen[versions[i]] = true
	}
	cur := h.latestDoc()
	if cur.version != start+editors {
		t.Errorf("latest version %d, want %d", cur.version, start+editors)
	}
	names := map[string]int{}
	for _, r := range cur.m.Pools[core.FindPool(&cur.m, "team")].Rules {
		names[r.Name]++
	}
	for i := range editors {
		if names[fmt.Sprintf("editor-%d", i)] != 1 {
			t.Errorf("rule of editor %d appears %d times", i, names[fmt.Sprintf("editor-%d", i)])
		}
	}
	es := h.auditEntries(store.AuditQuery{Kind: store.AuditAdminChange})
	if len(es) != editors {
		t.Errorf("%d audit entries, want %d", len(es), editors)
	}
}

// The OpenAPI document describes exactly the routes under /admin/api/v1.
func TestAdminOpenAPICoversEveryRoute(t *testing.T) {
	h := newAdminHarness(t)
	w := h.do(httptest.NewRequest(http.MethodGet, "/admin/api/v1/openapi.json", nil))
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	decodeBody(t, w, &doc)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	param := regexp.MustCompile(`:([a-z]+)`)
	for _, r := range h.srv.engine.Routes() {
		if !strings.HasPrefix(r.Path, "/admin/api/v1/") {
			continue
		}
		key := r.Method + " " + param.ReplaceAllString(r.Path, "{$1}")
		if !documented[key] {
			t.Errorf("route %s is not in the OpenAPI document", key)
		}
		delete(documented, key)
	}
	for k := range documented {
		t.Errorf("the OpenAPI document names %s, which is not a route", k)
	}
}
