package admin

import (
	"context"
	oidcidp "fedgate/idp/oidc"
	"net/http"
	"testing"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// TestCommit: an accepted change is the next version, marked as written
// through /admin, live at once and audited with the pool it touched; a
// refused one stores nothing.
func TestCommit(t *testing.T) {
	s := newTestAdmin(t)
	ctx := context.Background()
	owner := &principal{Actor: "demo:carol", Display: "carol", Provider: "demo", Subject: "carol", Role: config.AdminOwner}
	editor := &principal{Actor: "api-token", Display: "API token", Role: config.AdminEditor, viaToken: true}
	rename := func(name string) change {
		return updatePool("team", "", func(p *config.Pool) *core.Error { p.DisplayName = name; return nil }, "renamed")
	}

	res, pe := s.commit(ctx, owner, rename("Team A"))
	if pe != nil {
		t.Fatal(pe)
	}
	v, err := s.store.LatestConfig(ctx)
	if err != nil || v.Version != res.version || v.Source != Source || v.Author != "carol" {
		t.Fatalf("latest version %+v (%v), want %d by carol from %s", v, err, res.version, Source)
	}
	if got := s.core.Snapshot().Pools["team"].Cfg.DisplayName; got != "Team A" {
		t.Errorf("live display name %q", got)
	}
	es, err := s.store.ListAudit(ctx, store.AuditQuery{Kind: store.AuditAdminChange})
	if err != nil || len(es) != 1 || es[0].Pool != testTeamID || es[0].Actor != "demo:carol" || es[0].Reason != `pool "team": renamed` {
		t.Errorf("audit %+v (%v)", es, err)
	}

	// Editors cannot touch the provider admins sign in with.
	_, pe = s.commit(ctx, editor, change{summary: "x", apply: func(m *config.Mappings, _ int64) *core.Error {
		m.Providers[core.FindProvider(m, "demo")].DisplayName = "Mine"
		return nil
	}})
	if pe == nil || pe.Status != http.StatusForbidden || pe.Code != CodeForbidden {
		t.Fatalf("editor changing the admin provider: %+v", pe)
	}
	// A document that does not validate is refused with its problems.
	_, pe = s.commit(ctx, owner, updatePool("team", "", func(p *config.Pool) *core.Error { p.Providers = []string{"nobody"}; return nil }, "x"))
	if pe == nil || pe.Code != CodeInvalidMappings || len(pe.Problems) == 0 {
		t.Fatalf("invalid change: %+v", pe)
	}
	if v, _ := s.store.LatestConfig(ctx); v.Version != res.version {
		t.Errorf("a refused change stored version %d", v.Version)
	}
}

// TestIfMatch: a precondition matches "*" or any listed ETag; anything
// else is 412.
func TestIfMatch(t *testing.T) {
	const cur = `"abc"`
	for _, tt := range []struct {
		im ifMatch
		ok bool
	}{{"*", true}, {`"abc"`, true}, {`"x", "abc"`, true}, {`"x"`, false}, {`abc`, false}, {`W/"abc"`, false}} {
		e := tt.im.check(cur)
		if (e == nil) != tt.ok || (e != nil && (e.Status != http.StatusPreconditionFailed || e.Code != CodePreconditionFailed)) {
			t.Errorf("If-Match %s against %s: %v, want ok=%v", tt.im, cur, e, tt.ok)
		}
	}
}

// TestETags: an ETag changes with what the admin sees and with nothing
// else; a secret's value never shows in it.
func TestETags(t *testing.T) {
	p := config.Provider{ID: "corp", Type: config.ProviderOIDC, Settings: &oidcidp.Settings{Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "one"}}
	other := p.Clone()
	other.Settings.(*oidcidp.Settings).ClientSecret = "two"
	if providerETag(p) != providerETag(other) {
		t.Error("the ETag depends on the secret's value")
	}
	other.Settings.(*oidcidp.Settings).ClientID = "d"
	if providerETag(p) == providerETag(other) {
		t.Error("the ETag does not follow the client id")
	}
	pool := config.Pool{ID: testTeamID, Name: "team", Rules: testConfig(t).Pools[0].Rules}
	if ruleETag(pool, 0) == ruleETag(pool, 1) {
		t.Error("two rules share an ETag")
	}
	moved := pool
	moved.ID = "eu-west-1:6a1d3b2c-1111-4c1e-9a59-1b2f1b7d2c22"
	if ruleETag(pool, 0) == ruleETag(moved, 0) {
		t.Error("the same rule in two pools shares an ETag")
	}
	if docETag(7) != `"v7"` {
		t.Errorf("docETag(7) = %s", docETag(7))
	}
}
