package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"fedgate/exchange/modes"
	"fedgate/gateway/admin"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/idp"
)

// simFakeSAML is cogFakeSAML with the verify-only path: it counts which of
// its two paths ran, so the tests see that simulate never consumes.
type simFakeSAML struct {
	cogFakeSAML
	mu       sync.Mutex
	verified int
}

var _ idp.AssertionVerifier = (*simFakeSAML)(nil)

func (f *simFakeSAML) VerifyResponse(_ context.Context, resp string) (*idp.Identity, error) {
	f.mu.Lock()
	f.verified++
	f.mu.Unlock()
	if resp != "good" {
		return nil, fmt.Errorf("%w: signature does not verify", idp.ErrInvalidToken)
	}
	return &idp.Identity{Provider: "okta", Subject: "dana@example.com",
		Claims: map[string]any{"sub": "dana@example.com", "groups": []any{"dev"}, "team": "gold"}, RawToken: resp}, nil
}

// TestAdminSimulateSAML: a pasted SAML response is checked on the
// provider's verify-only path (never consumed, so never in the replay
// cache), its claims go through the rules like any, and bad input gets a
// precise refusal.
func TestAdminSimulateSAML(t *testing.T) {
	h := newAdminHarness(t)
	fake := &simFakeSAML{}
	plain := &cogFakeSAML{} // a SAML provider without the verify-only path
	snap := h.srv.core.Snapshot()
	team := snap.Pools[gwTeamID]
	for id, p := range map[string]idp.Provider{"okta": fake, "legacy": plain} {
		lp := &core.Provider{Cfg: config.Provider{ID: id, Type: "saml"}, Provider: p}
		snap.Providers[id] = lp
		team.Providers = append(team.Providers, lp)
	}
	before := h.state()

	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"a forged response", `{"pool":"team","provider":"okta","saml_response":"forged"}`, 401, core.CodeInvalidToken},
		{"claims and a response", `{"pool":"team","provider":"okta","claims":{},"saml_response":"good"}`, 400, core.CodeInvalidRequest},
		{"an ID token and a response", `{"pool":"team","provider":"okta","id_token":"` + gwTokenAlice + `","saml_response":"good"}`, 400, core.CodeInvalidRequest},
		{"several SAML providers and none named", `{"pool":"team","saml_response":"good"}`, 400, core.CodeUnknownProvider},
		{"a provider that can only consume", `{"pool":"team","provider":"legacy","saml_response":"good"}`, 400, core.CodeUnknownProvider},
		{"a provider the pool does not take", `{"pool":"solo","provider":"okta","saml_response":"good"}`, 400, core.CodeUnknownProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := h.adminCall(http.MethodPost, "/admin/api/v1/simulate", tt.body)
			if w.Code != tt.status || gwAPIError(t, w).Code != tt.code {
				t.Fatalf("HTTP %d %s, want %d %s", w.Code, w.Body, tt.status, tt.code)
			}
		})
	}

	t.Run("a verified response is explained rule by rule", func(t *testing.T) {
		w := h.adminCall(http.MethodPost, "/admin/api/v1/simulate", `{"pool":"team","provider":"okta","saml_response":"good"}`)
		var res admin.SimResult
		decodeBody(t, w, &res)
		if w.Code != 200 || !res.Verified || res.VerifiedFrom != "saml_response" || res.Subject != "dana@example.com" ||
			!res.Granted || len(res.Grants) != 1 || res.Grants[0].Role != gwReader || res.Grants[0].Tags["team"] != "gold" {
			t.Fatalf("HTTP %d %+v", w.Code, res)
		}
	})

	t.Run("the admin page takes a SAML response", func(t *testing.T) {
		b, csrf := h.signedInAdmin("carol", gwPassCarol)
		w := b.post("/admin/simulate", url.Values{"csrf": {csrf}, "pool": {"team"}, "input": {"saml"}, "saml_provider": {"okta"}, "saml_response": {" good\n"}})
		page := w.Body.String()
		if w.Code != 200 || !strings.Contains(page, "claims from a verified SAML response") || !strings.Contains(page, "dana@example.com") {
			t.Fatalf("HTTP %d\n%s", w.Code, page)
		}
		if !strings.Contains(page, `<option value="okta" selected>`) || strings.Contains(page, `value="legacy"`) {
			t.Error("the provider list should offer okta (selected) and not the provider that can only consume")
		}
		w = b.post("/admin/simulate", url.Values{"csrf": {csrf}, "pool": {"team"}, "input": {"saml"}, "saml_provider": {"okta"}, "saml_response": {"forged"}})
		if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "SAML response is not valid") {
			t.Errorf("forged on the page: HTTP %d", w.Code)
		}
	})

	fake.cogFakeSAML.mu.Lock()
	consumed := len(fake.requestIDs) + len(plain.requestIDs)
	fake.cogFakeSAML.mu.Unlock()
	if consumed != 0 || fake.verified == 0 {
		t.Errorf("simulate consumed %d responses (verified %d): it must only verify", consumed, fake.verified)
	}
	if after := h.state(); after != before {
		t.Errorf("simulate stored something: %+v -> %+v", before, after)
	}
}

// TestAdminSimulateSAMLForward: in a saml-forward pool the trace shows the
// narrowing a vend applies: a granted role the assertion does not offer
// through the pool's IAM SAML provider is dropped.
func TestAdminSimulateSAMLForward(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:saml-provider/okta"
	h := newAdminHarness(t)
	team := h.srv.core.Snapshot().Pools[gwTeamID]
	team.Cfg.Mode, team.Cfg.SAMLProviderARN = config.ModeSAMLForward, arn
	team.Spec, _ = modes.Lookup(config.ModeSAMLForward)
	for _, tt := range []struct {
		name, offered string
		granted       bool
		step          string
	}{
		{"offered through the pool's provider", gwReader + "," + arn, true, "the SAML Role attribute offers " + gwReader},
		{"offered through another provider", gwReader + ",arn:aws:iam::123456789012:saml-provider/other", false, "dropped: the SAML Role attribute does not offer " + gwReader},
		{"another role offered", gwAdmin + "," + arn, false, "dropped"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"pool":"team","claims":{"sub":"x","groups":["dev"],%q:%q}}`, idp.AWSRoleAttribute, tt.offered)
			w := h.adminCall(http.MethodPost, "/admin/api/v1/simulate", body)
			var res admin.SimResult
			decodeBody(t, w, &res)
			if res.Granted != tt.granted {
				t.Errorf("granted = %v, want %v: %+v", res.Granted, tt.granted, res)
			}
			found := false
			for _, st := range res.Steps {
				found = found || (st.Rule == "saml-forward" && strings.Contains(st.Detail, tt.step) && st.Matched == tt.granted)
			}
			if !found {
				t.Errorf("trace lacks the saml-forward step %q: %+v", tt.step, res.Steps)
			}
		})
	}
}
