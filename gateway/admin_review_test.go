package gateway

// Regression tests for the admin surface:
// privilege escalation through the admin sign-in provider, stored secrets
// following a changed issuer, the SAML SP key as a secret, UI saves that
// dropped fields, sign-out CSRF and the audit entry's pool.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"fedgate/exchange/rules"
	"fedgate/gateway/admin"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// withAdminEditor makes alice an editor and lets admins also sign in with
// the OIDC provider "app", so both provider types guard /admin.
func withAdminEditor(f *config.File) {
	f.Admin.Providers = []string{"demo", "app"}
	f.Admin.Rules = append(f.Admin.Rules, config.AdminRule{Name: "editors",
		Match: []rules.Condition{{Claim: "email", Op: "equals", Value: "alice@example.com"}}, Role: config.AdminEditor})
}

// storedProvider is the provider as stored (secrets included), as JSON.
func (h *gwHarness) storedProvider(id string) string {
	h.t.Helper()
	cur := h.latestDoc()
	return elemJSON(cur.m.Providers, core.FindProvider(&cur.m, id))
}

// storedPool is the pool as stored, as JSON.
func (h *gwHarness) storedPool(key string) string {
	h.t.Helper()
	cur := h.latestDoc()
	return elemJSON(cur.m.Pools, core.FindPool(&cur.m, key))
}

// elemJSON is list[i] as JSON, or "" when the lookup found nothing (i < 0).
func elemJSON[T any](list []T, i int) string {
	if i < 0 {
		return ""
	}
	b, _ := json.Marshal(list[i])
	return string(b)
}

// sessionJSON is a JSON API call with an admin session and its CSRF token.
func sessionJSON(b *gwBrowser, csrf, method, path, body string, header ...string) *httptest.ResponseRecorder {
	req := jsonReq(method, path, body)
	req.Header.Set("X-CSRF-Token", csrf)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.send(req)
}

// TestEditorCannotEscalateViaAdminProvider: an editor cannot change or
// delete a provider admins sign in with (a static user given the owners'
// group, an OIDC provider pointed at the editor's own IdP), through the
// API, the UI, the whole document or a restore; an owner can.
func TestEditorCannotEscalateViaAdminProvider(t *testing.T) {
	h := newGWHarness(t, withAdmin, withAdminEditor)
	editor, csrf := h.signedInAdmin("alice", gwPassAlice)
	var me map[string]string
	decodeBody(t, editor.get("/admin/api/v1/me"), &me)
	if me["role"] != config.AdminEditor {
		t.Fatalf("alice is %q, want editor", me["role"])
	}

	demo := h.adminCall(http.MethodGet, "/admin/api/v1/providers/demo", "")
	var demoP config.Provider
	decodeBody(t, demo, &demoP)
	for i, u := range staticSettings(&demoP).Users {
		if u.Username == "bob" {
			staticSettings(&demoP).Users[i].Claims["groups"] = []any{"admins"}
		}
	}
	bobAdmin, _ := json.Marshal(demoP)
	app := h.adminCall(http.MethodGet, "/admin/api/v1/providers/app", "")
	var appP config.Provider
	decodeBody(t, app, &appP)
	oidcSettings(&appP).Issuer = "https://idp.attacker.example"
	appRepointed, _ := json.Marshal(appP)
	demoTag, appTag := demo.Header().Get("ETag"), app.Header().Get("ETag")
	docTag := h.adminCall(http.MethodGet, "/admin/api/v1/mappings", "").Header().Get("ETag")
	var doc config.Mappings
	decodeBody(t, h.adminCall(http.MethodGet, "/admin/api/v1/mappings", ""), &doc)
	oidcSettings(&doc.Providers[core.FindProvider(&doc, "app")]).Issuer = "https://idp.attacker.example"
	docRepointed, _ := json.Marshal(doc)

	storedDemo, storedApp := h.storedProvider("demo"), h.storedProvider("app")
	before := h.state()
	tests := []struct {
		name string
		send func() *httptest.ResponseRecorder
		json bool
	}{
		{"API token (editor) gives a static user the owners' group", func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodPut, "/admin/api/v1/providers/demo", string(bobAdmin), "If-Match", demoTag)
		}, true},
		{"editor session gives a static user the owners' group", func() *httptest.ResponseRecorder {
			return sessionJSON(editor, csrf, http.MethodPut, "/admin/api/v1/providers/demo", string(bobAdmin), "If-Match", demoTag)
		}, true},
		{"editor points an admin OIDC provider at their own IdP", func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodPut, "/admin/api/v1/providers/app", string(appRepointed), "If-Match", appTag)
		}, true},
		{"editor deletes an admin provider", func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodDelete, "/admin/api/v1/providers/demo", "", "If-Match", demoTag)
		}, true},
		{"editor form repoints an admin provider", func() *httptest.ResponseRecorder {
			return editor.post("/admin/providers/app", url.Values{"csrf": {csrf}, "etag": {appTag}, "type": {"oidc"},
				"issuer": {"https://idp.attacker.example"}, "client_id": {"app-client"}})
		}, false},
		{"editor form deletes an admin provider", func() *httptest.ResponseRecorder {
			return editor.post("/admin/providers/demo/delete", url.Values{"csrf": {csrf}, "etag": {demoTag}})
		}, false},
		{"editor replaces the whole document", func() *httptest.ResponseRecorder {
			return sessionJSON(editor, csrf, http.MethodPut, "/admin/api/v1/mappings", string(docRepointed), "If-Match", docTag)
		}, true},
		{"editor restores a version", func() *httptest.ResponseRecorder {
			return editor.post("/admin/history/1/restore", url.Values{"csrf": {csrf}})
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.send()
			if w.Code != http.StatusForbidden {
				t.Fatalf("HTTP %d, want 403\n%s", w.Code, w.Body)
			}
			if tt.json {
				if e := gwAPIError(t, w); e.Code != admin.CodeForbidden {
					t.Errorf("code %q, want %q", e.Code, admin.CodeForbidden)
				}
			}
		})
	}
	if after := h.state(); after != before {
		t.Errorf("refused changes stored a version: %+v -> %+v", before, after)
	}
	if h.storedProvider("demo") != storedDemo || h.storedProvider("app") != storedApp {
		t.Errorf("an admin provider changed")
	}
	if _, w := h.adminBrowser("bob", gwPassBob); w.Code != http.StatusForbidden {
		t.Errorf("bob's admin sign-in: HTTP %d, want 403", w.Code)
	}

	t.Run("the page tells an editor the provider is locked", func(t *testing.T) {
		body := editor.get("/admin/providers/app").Body.String()
		if !strings.Contains(body, `id="admin-sign-in"`) || !strings.Contains(body, "only an <strong>owner</strong>") ||
			strings.Contains(body, ">Save provider<") || strings.Contains(body, ">Delete provider<") {
			t.Errorf("provider page for an editor:\n%s", body)
		}
	})
	t.Run("an editor still edits other providers and pools", func(t *testing.T) {
		w := sessionJSON(editor, csrf, http.MethodPost, "/admin/api/v1/providers", `{"id":"corp2","type":"oidc","issuer":"https://idp.example.com","client_id":"c"}`)
		if w.Code != http.StatusCreated {
			t.Fatalf("create corp2: %d %s", w.Code, w.Body)
		}
		w = sessionJSON(editor, csrf, http.MethodPut, "/admin/api/v1/providers/corp2", `{"id":"corp2","type":"oidc","issuer":"https://idp2.example.com","client_id":"c"}`, "If-Match", w.Header().Get("ETag"))
		if w.Code != http.StatusOK {
			t.Errorf("edit corp2: %d %s", w.Code, w.Body)
		}
	})
	t.Run("an owner changes an admin provider", func(t *testing.T) {
		owner, ocsrf := h.signedInAdmin("carol", gwPassCarol)
		oidcSettings(&appP).Issuer, appP.DisplayName = gwAppIss, "App IdP (renamed)"
		body, _ := json.Marshal(appP)
		w := sessionJSON(owner, ocsrf, http.MethodPut, "/admin/api/v1/providers/app", string(body), "If-Match", appTag)
		if w.Code != http.StatusOK {
			t.Errorf("owner: %d %s", w.Code, w.Body)
		}
	})
}

// TestAdminClientSecretReenteredWhenIssuerChanges: the stored client secret
// is not kept for a new issuer or type (it would be sent to the new token
// endpoint); the refusal names providers[i].client_secret, with every other
// problem, and stores nothing.
func TestAdminClientSecretReenteredWhenIssuerChanges(t *testing.T) {
	h := newAdminHarness(t)
	const secretValue = "corp2-secret-value"
	etag := h.createCorp2(t, secretValue)
	stored := h.storedProvider("corp2")
	const at = "providers[2].client_secret"
	tests := []struct {
		name string
		body string
		also string // another problem reported with it
	}{
		{"issuer changed, secret left out", `{"id":"corp2","type":"oidc","issuer":"https://idp.attacker.example","client_id":"c"}`, ""},
		{"issuer changed, placeholder sent", `{"id":"corp2","type":"oidc","issuer":"https://idp.attacker.example","client_id":"c","client_secret":"••••"}`, ""},
		{"reported with validation's problems", `{"id":"corp2","type":"oidc","issuer":"https://idp.attacker.example","client_id":""}`, "providers[2].client_id"},
	}
	before := h.state()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := h.adminCall(http.MethodPut, "/admin/api/v1/providers/corp2", tt.body, "If-Match", etag)
			if w.Code != http.StatusUnprocessableEntity {
				t.Fatalf("HTTP %d, want 422: %s", w.Code, w.Body)
			}
			var pr problemAnswer
			decodeBody(t, w, &pr)
			paths := pr.byPath()
			if pr.Code != admin.CodeInvalidMappings || !strings.Contains(paths[at], "enter the client secret again") {
				t.Errorf("problems = %+v, want one at %s", pr.Problems, at)
			}
			if tt.also != "" && paths[tt.also] == "" {
				t.Errorf("problems = %+v, want one at %s too", pr.Problems, tt.also)
			}
		})
	}
	if after := h.state(); after != before || h.storedProvider("corp2") != stored {
		t.Fatalf("a refused change was stored")
	}

	t.Run("the UI shows the problem next to the secret field", func(t *testing.T) {
		b, csrf := h.signedInAdmin("carol", gwPassCarol)
		w := b.post("/admin/providers/corp2", url.Values{"csrf": {csrf}, "etag": {etag}, "type": {"oidc"},
			"issuer": {"https://idp.attacker.example"}, "client_id": {"c"}, "client_secret": {""}})
		if w.Code != http.StatusUnprocessableEntity {
			t.Fatalf("HTTP %d, want 422", w.Code)
		}
		if !strings.Contains(w.Body.String(), `name="client_secret"`) ||
			!strings.Contains(after(w.Body.String(), `id="client_secret"`), "enter the client secret again") {
			t.Errorf("page lacks the problem next to the secret:\n%s", w.Body)
		}
		if h.storedProvider("corp2") != stored {
			t.Errorf("the refused form was stored")
		}
	})
	t.Run("the whole document and mappings apply say the same", func(t *testing.T) {
		b, csrf := h.signedInAdmin("carol", gwPassCarol)
		r := h.adminCall(http.MethodGet, "/admin/api/v1/mappings", "")
		var doc config.Mappings
		decodeBody(t, r, &doc)
		oidcSettings(&doc.Providers[2]).Issuer = "https://idp.attacker.example"
		body, _ := json.Marshal(doc)
		w := sessionJSON(b, csrf, http.MethodPut, "/admin/api/v1/mappings", string(body), "If-Match", r.Header().Get("ETag"))
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"path":"`+at+`"`) {
			t.Errorf("PUT /mappings: %d %s", w.Code, w.Body)
		}
		plan, err := core.PlanMappings(context.Background(), h.store, h.box, h.cfg, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Problems) == 0 || plan.Problems[0].Path != at {
			t.Errorf("mappings apply problems = %v", plan.Problems)
		}
		if h.storedProvider("corp2") != stored {
			t.Errorf("a refused document was stored")
		}
	})
	t.Run("a new secret with the new issuer is accepted", func(t *testing.T) {
		w := h.adminCall(http.MethodPut, "/admin/api/v1/providers/corp2", `{"id":"corp2","type":"oidc","issuer":"https://idp2.example.com","client_id":"c","client_secret":"fresh-secret"}`, "If-Match", etag)
		if w.Code != http.StatusOK {
			t.Fatalf("HTTP %d %s", w.Code, w.Body)
		}
		if s := h.storedProvider("corp2"); !strings.Contains(s, `"client_secret":"fresh-secret"`) || !strings.Contains(s, "idp2.example.com") {
			t.Errorf("stored %s", s)
		}
	})
}

// after is what follows the first marker in s ("" when absent).
func after(s, marker string) string {
	if i := strings.Index(s, marker); i >= 0 {
		return s[i:]
	}
	return ""
}

// samlTestFile reads the test-only SAML key material of idp/saml/testdata.
func samlTestFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "idp", "saml", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// samlTestMetadata is IdP metadata naming the test IdP's certificate.
func samlTestMetadata(t testing.TB) string {
	t.Helper()
	blk, _ := pem.Decode([]byte(samlTestFile(t, "idp.cert.pem")))
	if blk == nil {
		t.Fatal("idp.cert.pem is not PEM")
	}
	return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com/saml">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + base64.StdEncoding.EncodeToString(blk.Bytes) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`
}

func jsonString(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestAdminSPKeyIsWriteOnly: a SAML provider's sp_key is a secret like
// client_secret: no API answer, page, version diff, export or simulation
// shows it; left out or sent as the placeholder it is kept.
func TestAdminSPKeyIsWriteOnly(t *testing.T) {
	h := newAdminHarness(t)
	key, cert := samlTestFile(t, "sp.key.pem"), samlTestFile(t, "sp.cert.pem")
	if !strings.Contains(key, "PRIVATE KEY") {
		t.Fatal("the test key is not a PEM private key")
	}
	provider := func(extra string) string {
		return `{"id":"okta","type":"saml","display_name":"Okta","idp_metadata":` + jsonString(samlTestMetadata(t)) + `,"sp_certificate":` + jsonString(cert) + extra + `}`
	}
	var outputs []string
	w := h.adminCall(http.MethodPost, "/admin/api/v1/providers", provider(`,"sp_key":`+jsonString(key)))
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	outputs = append(outputs, w.Body.String())
	w = h.adminCall(http.MethodPost, "/admin/api/v1/pools", `{"id":"eu-west-2:0a0b0c0d-1111-4222-8333-444455556666","name":"fwd","providers":["okta"],"mode":"saml-forward",
		"saml_provider_arn":"arn:aws:iam::123456789012:saml-provider/okta","rules":[{"name":"all","match":[{"claim":"sub","op":"exists"}],"role":"`+gwReader+`"}]}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create pool: %d %s", w.Code, w.Body)
	}
	storedKey := func() string {
		cur := h.latestDoc()
		return samlSettings(&cur.m.Providers[core.FindProvider(&cur.m, "okta")]).SPKey
	}
	etag := h.adminCall(http.MethodGet, "/admin/api/v1/providers/okta", "").Header().Get("ETag")
	for _, extra := range []string{``, `,"sp_key":"••••"`} {
		w := h.adminCall(http.MethodPut, "/admin/api/v1/providers/okta", provider(extra), "If-Match", etag)
		if w.Code != http.StatusOK {
			t.Fatalf("PUT %s: %d %s", extra, w.Code, w.Body)
		}
		outputs = append(outputs, w.Body.String())
		etag = w.Header().Get("ETag")
		if storedKey() != key {
			t.Errorf("PUT with sp_key %q did not keep the stored key", extra)
		}
	}
	// A new key pair: the diff says the key changed without showing either.
	key2, cert2 := samlTestFile(t, "attacker.key.pem"), samlTestFile(t, "attacker.cert.pem")
	w = h.adminCall(http.MethodPut, "/admin/api/v1/providers/okta", `{"id":"okta","type":"saml","idp_metadata":`+jsonString(samlTestMetadata(t))+
		`,"sp_certificate":`+jsonString(cert2)+`,"sp_key":`+jsonString(key2)+`}`, "If-Match", etag)
	if w.Code != http.StatusOK || storedKey() != key2 {
		t.Fatalf("replacing the key: %d %s", w.Code, w.Body)
	}
	v := h.state().configVersion
	var vd admin.VersionDiff
	decodeBody(t, h.adminCall(http.MethodGet, fmt.Sprintf("/admin/api/v1/versions/%d", v), ""), &vd)
	found := false
	for _, d := range vd.Diff {
		if d.Path == "providers[okta].sp_key" {
			found = d.Old == "(secret)" && d.New == "(secret)"
		}
	}
	if !found {
		t.Errorf("diff of a key change = %+v", vd.Diff)
	}

	b, csrf := h.signedInAdmin("carol", gwPassCarol)
	for _, path := range []string{"/admin/api/v1/providers/okta", "/admin/api/v1/providers", "/admin/api/v1/mappings",
		"/admin/api/v1/versions", "/admin/api/v1/audit", "/admin/api/v1/audit/export", "/admin/api/v1/pools/fwd/trust-policy",
		"/admin", "/admin/providers/okta", "/admin/pools/fwd", "/admin/history", "/admin/audit"} {
		w := b.get(path)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, w.Code)
		}
		outputs = append(outputs, path+": "+w.Body.String())
	}
	for n := int64(1); n <= v; n++ {
		outputs = append(outputs, b.get(fmt.Sprintf("/admin/api/v1/versions/%d", n)).Body.String(), b.get(fmt.Sprintf("/admin/history/%d", n)).Body.String())
	}
	sim := sessionJSON(b, csrf, http.MethodPost, "/admin/api/v1/simulate", `{"pool":"fwd","claims":{"sub":"dana"}}`)
	outputs = append(outputs, sim.Body.String(),
		b.post("/admin/simulate", url.Values{"csrf": {csrf}, "pool": {"fwd"}, "input": {"claims"}, "claims": {`{"sub":"dana"}`}}).Body.String())
	var export bytes.Buffer
	if _, err := core.ExportMappings(context.Background(), h.store, h.box, &export); err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, export.String())
	if !strings.Contains(export.String(), "sp_key: ••••") {
		t.Errorf("the export does not show the key as the placeholder:\n%s", export.String())
	}
	plan, err := core.PlanMappings(context.Background(), h.store, h.box, h.cfg, bytes.NewReader(export.Bytes()))
	if err != nil || len(plan.Problems) > 0 || plan.Changes() != 0 {
		t.Errorf("applying the export again: err %v, problems %v, %d change(s):\n%s", err, plan.Problems, plan.Changes(), plan.DiffText())
	}
	outputs = append(outputs, h.logs.String())
	for i, out := range outputs {
		if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, strings.Split(strings.TrimSpace(key2), "\n")[1]) {
			t.Errorf("output %d shows the SP key:\n%.400s", i, out)
		}
	}
}

// formValues is what a browser would submit from the form posting to
// action on page: named, enabled controls with their current values.
func formValues(t testing.TB, page, action string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, k string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val, true
			}
		}
		return "", false
	}
	var form *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "form" {
			if a, _ := attr(n, "action"); a == action && form == nil {
				form = n
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if form == nil {
		t.Fatalf("no form posting to %s", action)
	}
	text := func(n *html.Node) string {
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
		}
		return b.String()
	}
	out := url.Values{}
	var walk func(n *html.Node, disabled bool)
	walk = func(n *html.Node, disabled bool) {
		if n.Type == html.ElementNode {
			if _, ok := attr(n, "disabled"); ok {
				disabled = true
			}
			name, named := attr(n, "name")
			switch {
			case disabled || !named:
			case n.Data == "input":
				typ, _ := attr(n, "type")
				val, _ := attr(n, "value")
				switch typ {
				case "checkbox", "radio":
					if _, checked := attr(n, "checked"); checked {
						if val == "" {
							val = "on"
						}
						out.Add(name, val)
					}
				case "submit", "button":
				default:
					out.Add(name, val)
				}
			case n.Data == "textarea":
				out.Add(name, strings.ReplaceAll(text(n), "\n", "\r\n")) // as browsers send it
			case n.Data == "select":
				first, chosen := "", ""
				for o := n.FirstChild; o != nil; o = o.NextSibling {
					if o.Type != html.ElementNode || o.Data != "option" {
						continue
					}
					v, _ := attr(o, "value")
					if first == "" {
						first = v
					}
					if _, sel := attr(o, "selected"); sel {
						chosen = v
					}
				}
				if chosen == "" {
					chosen = first
				}
				out.Add(name, chosen)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, disabled)
		}
	}
	walk(form, false)
	return out
}

// TestAdminUISaveRoundTripsEveryField: saving a provider (of each type) or
// a pool page unchanged changes nothing that is stored — not the fields
// the form shows, nor those it does not (static users, secrets, the SAML
// and Cognito settings).
func TestAdminUISaveRoundTripsEveryField(t *testing.T) {
	h := newAdminHarness(t)
	key, cert := samlTestFile(t, "sp.key.pem"), samlTestFile(t, "sp.cert.pem")
	setup := []struct{ path, body string }{
		{"/admin/api/v1/providers", `{"id":"full-oidc","type":"oidc","display_name":"Full OIDC","issuer":"https://idp.example.com/tenant","client_id":"cid",
			"client_secret":"oidc-secret","scopes":["openid","email","groups"],"allowed_algorithms":["RS256","ES256"],"userinfo":true,
			"extra_audiences":["app-1","app-2"],"clock_skew":"2m0s"}`},
		{"/admin/api/v1/providers", `{"id":"okta-xml","type":"saml","display_name":"Okta (inline)","idp_metadata":` + jsonString(samlTestMetadata(t)) +
			`,"entity_id":"https://fedgate.example.com/sp","acs_url":"http://127.0.0.1:8080/saml/acs/okta-xml","sp_key":` + jsonString(key) +
			`,"sp_certificate":` + jsonString(cert) + `,"allow_idp_initiated":true,"metadata_refresh":"2h0m0s",
			"name_id_format":"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress","clock_skew":"30s"}`},
		{"/admin/api/v1/providers", `{"id":"okta-url","type":"saml","idp_metadata_url":"http://127.0.0.1:1/metadata"}`},
		{"/admin/api/v1/providers", `{"id":"hub","type":"oauth2","display_name":"Hub","authorization_url":"https://hub.example.com/authorize",
			"token_url":"https://hub.example.com/token","userinfo_url":"https://api.hub.example.com/user","client_id":"hub-client",
			"client_secret":"hub-secret","token_auth_method":"client_secret_post","scopes":["read:user","read:org"],"subject_claim":"id",
			"claims":{"login":"login","teams":"orgs"},"issuer":"https://hub.example.com"}`},
		{"/admin/api/v1/pools", `{"id":"ap-south-1:7e6d5c4b-3a29-4181-8f7e-6d5c4b3a2918","name":"every","display_name":"Every field",
			"providers":["demo","full-oidc"],"mode":"gateway-token","own_issuer":true,"resolution":"all_matches","no_match":"default_role",
			"authenticated_role":"` + gwReader + `","unauthenticated_role":"` + gwSolo + `","allow_guests":true,"roles_claim":"cognito:roles",
			"preferred_role_claim":"cognito:preferred_role","principal_tags":{"dept":"department","team":"team"},"transitive_tag_keys":["dept"],
			"rules":[{"name":"devs","match":[{"claim":"groups","op":"equals","value":"dev"}],"role":"` + gwReader + `","duration_seconds":1800}],
			"session_name_claim":"email","duration_seconds":7200,"allow_classic_flow":true}`},
		{"/admin/api/v1/pools", `{"id":"ap-south-1:1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d","name":"fwd","display_name":"SAML forward","providers":["okta-xml"],
			"mode":"saml-forward","saml_provider_arn":"arn:aws:iam::123456789012:saml-provider/okta",
			"rules":[{"name":"all","match":[{"claim":"sub","op":"exists"}],"role":"` + gwReader + `"}]}`},
	}
	for _, s := range setup {
		if w := h.adminCall(http.MethodPost, s.path, s.body); w.Code != http.StatusCreated {
			t.Fatalf("setup %s: %d %s", s.path, w.Code, w.Body)
		}
	}
	b, csrf := h.signedInAdmin("carol", gwPassCarol)
	tests := []struct {
		name, page string
		stored     func() string
	}{
		{"oidc provider", "/admin/providers/full-oidc", func() string { return h.storedProvider("full-oidc") }},
		{"oidc provider without a secret", "/admin/providers/app", func() string { return h.storedProvider("app") }},
		{"static provider", "/admin/providers/demo", func() string { return h.storedProvider("demo") }},
		{"saml provider, inline metadata and SP key", "/admin/providers/okta-xml", func() string { return h.storedProvider("okta-xml") }},
		{"saml provider, metadata URL", "/admin/providers/okta-url", func() string { return h.storedProvider("okta-url") }},
		// oauth2 shares issuer, client_id, client_secret and scopes with
		// oidc: its own section's inputs must be the ones saved.
		{"oauth2 provider", "/admin/providers/hub", func() string { return h.storedProvider("hub") }},
		{"pool with every gateway-token setting", "/admin/pools/every", func() string { return h.storedPool("every") }},
		{"saml-forward pool", "/admin/pools/fwd", func() string { return h.storedPool("fwd") }},
		{"pool with the default resolution", "/admin/pools/solo", func() string { return h.storedPool("solo") }},
		{"pool with two providers and a tag", "/admin/pools/team", func() string { return h.storedPool("team") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, v := tt.stored(), h.state().configVersion
			page := b.get(tt.page)
			if page.Code != http.StatusOK {
				t.Fatalf("GET %s: %d", tt.page, page.Code)
			}
			form := formValues(t, page.Body.String(), tt.page)
			if form.Get("csrf") != csrf {
				t.Fatalf("the form has no CSRF token: %v", form)
			}
			w := b.post(tt.page, form)
			if w.Code != http.StatusSeeOther {
				t.Fatalf("save: %d\n%s", w.Code, w.Body)
			}
			if h.state().configVersion != v+1 {
				t.Fatalf("the save made no version")
			}
			if got := tt.stored(); got != before {
				t.Errorf("an unchanged save changed what is stored:\nbefore %s\nafter  %s", before, got)
			}
		})
	}
	t.Run("a form save changes what it shows and keeps the rest", func(t *testing.T) {
		form := formValues(t, b.get("/admin/pools/fwd").Body.String(), "/admin/pools/fwd")
		form.Set("display_name", "SAML forward (renamed)")
		if w := b.post("/admin/pools/fwd", form); w.Code != http.StatusSeeOther {
			t.Fatalf("save: %d %s", w.Code, w.Body)
		}
		var p config.Pool
		if err := json.Unmarshal([]byte(h.storedPool("fwd")), &p); err != nil {
			t.Fatal(err)
		}
		if p.DisplayName != "SAML forward (renamed)" || p.SAMLProviderARN != "arn:aws:iam::123456789012:saml-provider/okta" || p.Mode != config.ModeSAMLForward {
			t.Errorf("after the save: %+v", p)
		}
	})
	t.Run("guest_ttl is set, shown and checked in the form", func(t *testing.T) {
		form := formValues(t, b.get("/admin/pools/team").Body.String(), "/admin/pools/team")
		form.Set("guest_ttl", "48h")
		if w := b.post("/admin/pools/team", form); w.Code != http.StatusSeeOther {
			t.Fatalf("save: %d %s", w.Code, w.Body)
		}
		var p config.Pool
		if err := json.Unmarshal([]byte(h.storedPool("team")), &p); err != nil {
			t.Fatal(err)
		}
		if p.GuestTTL.D() != 48*time.Hour {
			t.Errorf("guest_ttl stored as %v, want 48h", p.GuestTTL.D())
		}
		form = formValues(t, b.get("/admin/pools/team").Body.String(), "/admin/pools/team")
		if form.Get("guest_ttl") != "48h0m0s" {
			t.Errorf("the form shows guest_ttl %q", form.Get("guest_ttl"))
		}
		for _, bad := range []string{"30m", "a month"} {
			form.Set("guest_ttl", bad)
			if w := b.post("/admin/pools/team", form); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "guest_ttl") {
				t.Errorf("guest_ttl %q: HTTP %d", bad, w.Code)
			}
		}
	})
	t.Run("developer_provider_name is set, shown and checked in the form", func(t *testing.T) {
		form := formValues(t, b.get("/admin/pools/team").Body.String(), "/admin/pools/team")
		form.Set("developer_provider_name", "login.example.app")
		if w := b.post("/admin/pools/team", form); w.Code != http.StatusSeeOther {
			t.Fatalf("save: %d %s", w.Code, w.Body)
		}
		var p config.Pool
		if err := json.Unmarshal([]byte(h.storedPool("team")), &p); err != nil {
			t.Fatal(err)
		}
		if p.DeveloperProviderName != "login.example.app" {
			t.Errorf("developer_provider_name stored as %q", p.DeveloperProviderName)
		}
		form = formValues(t, b.get("/admin/pools/team").Body.String(), "/admin/pools/team")
		if form.Get("developer_provider_name") != "login.example.app" {
			t.Errorf("the form shows developer_provider_name %q", form.Get("developer_provider_name"))
		}
		form.Set("developer_provider_name", "login example")
		if w := b.post("/admin/pools/team", form); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "developer_provider_name") {
			t.Errorf("a name with a space: HTTP %d", w.Code)
		}
	})
}

// TestAdminSignOutNeedsCSRF: POST /admin/logout from another site, or
// without the session's token, does not sign the admin out.
func TestAdminSignOutNeedsCSRF(t *testing.T) {
	h := newAdminHarness(t)
	b, csrf := h.signedInAdmin("carol", gwPassCarol)
	tests := []struct {
		name   string
		origin string
		form   url.Values
	}{
		{"no token", "", url.Values{}},
		{"a wrong token", "", url.Values{"csrf": {"0" + csrf[1:]}}},
		{"another site", "https://evil.example.com", url.Values{"csrf": {csrf}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.origin = tt.origin
			w := b.post("/admin/logout", tt.form)
			b.origin = ""
			if w.Code != http.StatusForbidden {
				t.Errorf("HTTP %d, want 403", w.Code)
			}
			if got := b.get("/admin"); got.Code != http.StatusOK {
				t.Errorf("the admin was signed out: GET /admin = %d", got.Code)
			}
		})
	}
	if w := b.post("/admin/logout", url.Values{"csrf": {csrf}}); w.Code != http.StatusSeeOther {
		t.Fatalf("logout with the token: %d", w.Code)
	}
	if w := b.get("/admin"); w.Code != http.StatusUnauthorized {
		t.Errorf("after logout GET /admin = %d", w.Code)
	}
	if w := h.browser().post("/admin/logout", nil); w.Code != http.StatusSeeOther {
		t.Errorf("logout without a session: %d, want 303", w.Code)
	}
}

// TestAdminChangeAuditNamesThePool: every pool and rule change, through the
// API or the UI, records the pool's id in its audit entry.
func TestAdminChangeAuditNamesThePool(t *testing.T) {
	h := newAdminHarness(t)
	b, csrf := h.signedInAdmin("carol", gwPassCarol)
	const newPool = "ca-central-1:9f8e7d6c-5b4a-4392-8e1d-0c9b8a7f6e5d"
	poolTag := func(key string) string {
		return h.adminCall(http.MethodGet, "/admin/api/v1/pools/"+key, "").Header().Get("ETag")
	}
	ruleTag := func(key string, i int) string {
		return h.adminCall(http.MethodGet, fmt.Sprintf("/admin/api/v1/pools/%s/rules/%d", key, i), "").Header().Get("ETag")
	}
	tests := []struct {
		name string
		pool string
		send func() *httptest.ResponseRecorder
	}{
		{"API: add a rule", gwTeamID, func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodPost, "/admin/api/v1/pools/team/rules", `{"name":"x","match":[{"claim":"sub","op":"exists"}],"role":"`+gwSolo+`"}`)
		}},
		{"API: change a rule", gwTeamID, func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodPut, "/admin/api/v1/pools/team/rules/2", `{"name":"y","match":[{"claim":"sub","op":"exists"}],"role":"`+gwSolo+`"}`, "If-Match", ruleTag("team", 2))
		}},
		{"API: reorder", gwTeamID, func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodPut, "/admin/api/v1/pools/team/rules", `{"order":[2,0,1]}`, "If-Match", poolTag("team"))
		}},
		{"API: delete a rule", gwTeamID, func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodDelete, "/admin/api/v1/pools/team/rules/0", "", "If-Match", ruleTag("team", 0))
		}},
		{"API: change pool settings", gwSoloID, func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodPut, "/admin/api/v1/pools/solo", `{"name":"solo","display_name":"Solo 2","providers":["demo"],"own_issuer":true,"rules":[{"name":"all","match":[{"claim":"sub","op":"exists"}],"role":"`+gwSolo+`"}]}`, "If-Match", poolTag("solo"))
		}},
		{"API: add a pool", newPool, func() *httptest.ResponseRecorder {
			return h.adminCall(http.MethodPost, "/admin/api/v1/pools", `{"id":"`+newPool+`","name":"extra","providers":["demo"]}`)
		}},
		{"UI: pool settings (renamed)", newPool, func() *httptest.ResponseRecorder {
			form := formValues(t, b.get("/admin/pools/extra").Body.String(), "/admin/pools/extra")
			form.Set("name", "extra2")
			return b.post("/admin/pools/extra", form)
		}},
		{"UI: add a rule", newPool, func() *httptest.ResponseRecorder {
			return b.post("/admin/pools/extra2/rules/_new", url.Values{"csrf": {csrf}, "name": {"z"}, "role": {gwReader}, "claim_0": {"sub"}, "op_0": {"exists"}})
		}},
		{"UI: move a rule", gwTeamID, func() *httptest.ResponseRecorder {
			return b.post("/admin/pools/team/rules/0/move", url.Values{"csrf": {csrf}, "etag": {poolTag("team")}, "direction": {"down"}})
		}},
		{"UI: delete a rule", newPool, func() *httptest.ResponseRecorder {
			return b.post("/admin/pools/extra2/rules/0/delete", url.Values{"csrf": {csrf}, "etag": {ruleTag("extra2", 0)}})
		}},
		{"UI: delete a pool", newPool, func() *httptest.ResponseRecorder {
			return b.post("/admin/pools/extra2/delete", url.Values{"csrf": {csrf}, "etag": {poolTag("extra2")}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := h.state().configVersion
			w := tt.send()
			if w.Code/100 != 2 && w.Code != http.StatusSeeOther {
				t.Fatalf("HTTP %d %s", w.Code, w.Body)
			}
			es := h.auditEntries(store.AuditQuery{Kind: store.AuditAdminChange, Limit: 1})
			if len(es) != 1 || es[0].Version != v+1 {
				t.Fatalf("no audit entry for version %d: %+v", v+1, es)
			}
			if es[0].Pool != tt.pool {
				t.Errorf("audit entry %q names pool %q, want %q", es[0].Reason, es[0].Pool, tt.pool)
			}
		})
	}
}
