package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/admin"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// restartWith starts a new server on the same store, keys and clock with
// the configuration file changed by edit, as an operator restarting
// fedgate with an edited file would; sessions live in the store and
// survive it.
func (h *gwHarness) restartWith(edit func(*config.File)) {
	h.t.Helper()
	f := *h.cfg
	f.Admin.Providers = slices.Clone(f.Admin.Providers)
	f.Admin.Rules = slices.Clone(f.Admin.Rules)
	edit(&f)
	if ps := f.Validate(); len(ps) > 0 {
		h.t.Fatalf("edited config invalid: %v", ps)
	}
	srv, err := New(context.Background(), Deps{Config: &f, Store: h.store, Issuer: h.iss, Box: h.box, STS: h.sts,
		Upstream: upstreamClient(h.t, &f, time.Second), Logger: h.log, Now: h.clock.Now, Rand: h.rand})
	if err != nil {
		h.t.Fatal(err)
	}
	h.srv, h.cfg = srv, &f
	h.installVerifier()
}

// sessionWrite is an editor-only JSON write with the session's CSRF token.
func sessionWrite(b *gwBrowser, csrf string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/admin/api/v1/pools/team/rules", strings.NewReader(`{"name":"later","role":"`+gwReader+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	return b.send(req)
}

// TestAdminRoleFollowsCurrentRules: an admin session keeps the sign-in's
// verified claims, not its role, so a role taken away in the admin rules,
// or a provider taken off admin.providers, takes effect on the next
// request rather than when the session expires.
func TestAdminRoleFollowsCurrentRules(t *testing.T) {
	h := newAdminHarness(t)
	carol, csrf := h.signedInAdmin("carol", gwPassCarol)
	alice, _ := h.signedInAdmin("alice", gwPassAlice)
	role := func(b *gwBrowser) (int, string) {
		w := b.get("/admin/api/v1/me")
		var me map[string]string
		if w.Code == http.StatusOK {
			decodeBody(t, w, &me)
		}
		return w.Code, me["role"]
	}
	if code, r := role(carol); code != http.StatusOK || r != config.AdminOwner {
		t.Fatalf("carol signed in: HTTP %d role %q, want owner", code, r)
	}
	if w := sessionWrite(carol, csrf); w.Code != http.StatusCreated {
		t.Fatalf("carol as owner cannot write: HTTP %d %s", w.Code, w.Body)
	}

	// The owners rule goes; carol is still in group dev, so a viewer.
	h.restartWith(func(f *config.File) {
		f.Admin.Rules = slices.DeleteFunc(f.Admin.Rules, func(r config.AdminRule) bool { return r.Role == config.AdminOwner })
	})
	t.Run("demoted to viewer", func(t *testing.T) {
		if code, r := role(carol); code != http.StatusOK || r != config.AdminViewer {
			t.Errorf("after the rules changed: HTTP %d role %q, want viewer", code, r)
		}
		before := h.state()
		w := sessionWrite(carol, csrf)
		if w.Code != http.StatusForbidden || gwAPIError(t, w).Code != admin.CodeForbidden {
			t.Errorf("editor-only JSON write as a viewer: HTTP %d %s", w.Code, w.Body)
		}
		if w := carol.post("/admin/pools/team/rules/0/delete", url.Values{"csrf": {csrf}}); w.Code != http.StatusForbidden {
			t.Errorf("editor-only form post as a viewer: HTTP %d", w.Code)
		}
		if w := carol.post("/admin/history/1/restore", url.Values{"csrf": {csrf}}); w.Code != http.StatusForbidden {
			t.Errorf("owner-only restore as a viewer: HTTP %d", w.Code)
		}
		if after := h.state(); after != before {
			t.Errorf("refused writes changed the store: %+v -> %+v", before, after)
		}
	})

	// No rule names group dev any more: alice has no role at all.
	h.restartWith(func(f *config.File) {
		f.Admin.Rules = []config.AdminRule{{Name: "nobody", Match: f.Admin.Rules[0].Match, Role: config.AdminViewer}}
		f.Admin.Rules[0].Match = slices.Clone(f.Admin.Rules[0].Match)
		f.Admin.Rules[0].Match[0].Value = "nobody-has-this-group"
	})
	t.Run("no rule grants a role any more", func(t *testing.T) {
		if code, _ := role(alice); code != http.StatusUnauthorized {
			t.Errorf("alice with no matching rule: HTTP %d, want 401", code)
		}
		if _, ok := alice.cookies[h.srv.kit.CookieName(gwAdminCookie)]; ok {
			t.Errorf("the refused session's cookie was not cleared")
		}
	})

	// Back to the original rules, but admins sign in through "app" only.
	kept := carol.cookies[h.srv.kit.CookieName(gwAdminCookie)]
	if kept == "" {
		t.Fatalf("carol has no admin cookie: %v", carol.cookies)
	}
	h.restartWith(func(f *config.File) {
		withAdmin(f)
		f.Admin.Providers = []string{"app"}
	})
	t.Run("provider no longer an admin provider", func(t *testing.T) {
		if code, _ := role(carol); code != http.StatusUnauthorized {
			t.Errorf("carol through a provider admins no longer use: HTTP %d, want 401", code)
		}
		if _, ok := carol.cookies[h.srv.kit.CookieName(gwAdminCookie)]; ok {
			t.Errorf("the refused session's cookie was not cleared")
		}
		if w := h.adminCall(http.MethodGet, "/admin/api/v1/me", ""); w.Code != http.StatusOK {
			t.Errorf("the API token is not affected: HTTP %d %s", w.Code, w.Body)
		}
	})

	// The refused sessions are gone from the store: restoring the original
	// configuration does not bring them back.
	h.restartWith(withAdmin)
	t.Run("refused sessions are deleted", func(t *testing.T) {
		replay := h.browser()
		replay.cookies[h.srv.kit.CookieName(gwAdminCookie)] = kept
		if code, _ := role(replay); code != http.StatusUnauthorized {
			t.Errorf("the withdrawn session's cookie works again: HTTP %d", code)
		}
		if code, r := role(h.newSignedIn("carol", gwPassCarol)); code != http.StatusOK || r != config.AdminOwner {
			t.Errorf("a fresh sign-in: HTTP %d role %q, want owner", code, r)
		}
		es := h.auditEntries(store.AuditQuery{Kind: store.AuditAdminSignIn, Result: store.AuditRefused})
		var reasons []string
		for _, e := range es {
			reasons = append(reasons, e.Subject+": "+e.Reason)
		}
		slices.Sort(reasons)
		want := []string{"alice: admin session ended: no admin rule matches any more",
			"carol: admin session ended: the provider is no longer one admins sign in with"}
		if !slices.Equal(reasons, want) {
			t.Errorf("audit of ended sessions = %q, want %q", reasons, want)
		}
	})
}

func (h *gwHarness) newSignedIn(user, pass string) *gwBrowser {
	b, _ := h.signedInAdmin(user, pass)
	return b
}

// TestVersionHashIsNotAGuessOracle: the version hash viewers see is a
// keyed digest, so it cannot be used to test guesses of a client_secret
// in the (otherwise known) mappings document offline.
func TestVersionHashIsNotAGuessOracle(t *testing.T) {
	const realSecret = "s3cret-the-viewer-must-not-learn"
	h := newGWHarness(t, withAdmin, func(f *config.File) {
		for i := range f.Providers {
			if f.Providers[i].ID == "app" {
				oidcSettings(&f.Providers[i]).ClientSecret = realSecret
			}
		}
	})
	ctx := context.Background()
	viewer, _ := h.signedInAdmin("alice", gwPassAlice)
	shown := func() map[int64]string {
		w := viewer.get("/admin/api/v1/versions")
		if w.Code != http.StatusOK {
			t.Fatalf("versions as a viewer: HTTP %d %s", w.Code, w.Body)
		}
		var body struct {
			Versions []struct {
				Version int64  `json:"version"`
				Hash    string `json:"hash"`
			} `json:"versions"`
		}
		decodeBody(t, w, &body)
		out := map[int64]string{}
		for _, v := range body.Versions {
			out[v.Version] = v.Hash
		}
		return out
	}

	// The attack: everything but the secret is known (it is the config
	// file, or what GET /mappings shows); hash each guess and compare.
	seeded := shown()[1]
	for _, guess := range []string{"password", "hunter2", realSecret} {
		m := h.cfg.Mappings()
		for i := range m.Providers {
			if m.Providers[i].ID == "app" {
				m.Providers[i] = m.Providers[i].Clone()
				oidcSettings(&m.Providers[i]).ClientSecret = guess
			}
		}
		doc, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(doc); hex.EncodeToString(sum[:]) == seeded {
			t.Errorf("the version hash confirms the guess %q", guess)
		}
	}

	// The other two ways a version is written: an admin change and
	// `fedgate mappings apply`.
	if w := h.adminCall(http.MethodPost, "/admin/api/v1/pools/team/rules", `{"name":"y","role":"`+gwReader+`"}`); w.Code != http.StatusCreated {
		t.Fatalf("admin change: HTTP %d %s", w.Code, w.Body)
	}
	var export bytes.Buffer
	if _, err := core.ExportMappings(ctx, h.store, h.box, &export); err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(export.String(), "display_name: Team\n", "display_name: Team two\n", 1)
	plan, err := core.PlanMappings(ctx, h.store, h.box, h.cfg, strings.NewReader(edited))
	if err != nil || len(plan.Problems) > 0 || plan.Changes() != 1 {
		t.Fatalf("plan: err %v problems %v changes %d", err, plan.Problems, plan.Changes())
	}
	if _, err := core.ApplyMappings(ctx, h.store, h.box, plan, "ops", ""); err != nil {
		t.Fatal(err)
	}

	hashes := shown()
	if len(hashes) != 3 {
		t.Fatalf("versions %v, want 3", hashes)
	}
	for n, hash := range hashes {
		v, err := h.store.GetConfig(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := h.box.Open(v.Doc, []byte("config"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(plain), realSecret) {
			t.Errorf("version %d (%s) does not hold the secret; the test proves nothing", n, v.Source)
		}
		if sum := sha256.Sum256(plain); hex.EncodeToString(sum[:]) == hash {
			t.Errorf("version %d (%s): the shown hash is the plain SHA-256 of the document", n, v.Source)
		}
		if want := h.box.Digest(plain); hash != want {
			t.Errorf("version %d (%s): hash %s, want the keyed digest %s", n, v.Source, hash, want)
		}
	}

}
