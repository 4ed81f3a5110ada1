package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"fedgate/exchange"
	"fedgate/gateway/cli"
	"fedgate/gateway/cognito"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
)

// auditCursor reads the audit entries written since the last call.
type auditCursor struct {
	t    *testing.T
	st   store.AuditStore
	last int64
}

func (a *auditCursor) next() []store.AuditEntry {
	a.t.Helper()
	es, err := a.st.ListAudit(context.Background(), store.AuditQuery{})
	if err != nil {
		a.t.Fatal(err)
	}
	var out []store.AuditEntry
	for i := len(es) - 1; i >= 0; i-- { // oldest first
		if es[i].ID > a.last {
			out = append(out, es[i])
		}
	}
	if len(es) > 0 {
		a.last = es[0].ID
	}
	return out
}

// withFakeSAML adds the cogFakeSAML provider "okta" to the gateway
// harness's pool team (it accepts the response "good" only).
func withFakeSAML(h *gwHarness) {
	fake := &core.Provider{Cfg: config.Provider{ID: "okta", Type: "saml"}, Provider: &cogFakeSAML{}}
	snap := h.srv.core.Snapshot()
	snap.Providers["okta"] = fake
	snap.Pools[gwTeamID].Providers = append(snap.Pools[gwTeamID].Providers, fake)
}

// TestAuditRecordsEveryRefusal: each kind of refused credential request
// leaves exactly one audit entry naming what is known and nothing more
// (no subject before a verified identity exists), with the public code as
// the reason; paths that audited before still write exactly one.
func TestAuditRecordsEveryRefusal(t *testing.T) {
	h := newAdminHarness(t)
	withFakeSAML(h)
	cur := &auditCursor{t: t, st: h.store}
	const pw = "never-in-the-audit-log"
	flowState := func(b *gwBrowser) string { return b.startLogin("team") }

	cases := []struct {
		name       string
		do         func() int
		status     int
		want       store.AuditEntry
		wantNoSubj bool
	}{
		{"expired ID token on the API", func() int { return h.api(gwTokenExpired, `{"pool":"team"}`).Code }, 401,
			store.AuditEntry{Kind: store.AuditVend, Pool: gwTeamID, Provider: "app", Reason: core.CodeExpiredToken}, true},
		{"forged ID token on the API", func() int { return h.api(gwTokenForged, `{"pool":"team"}`).Code }, 401,
			store.AuditEntry{Kind: store.AuditVend, Pool: gwTeamID, Provider: "app", Reason: core.CodeInvalidToken}, true},
		{"token of a foreign issuer", func() int { return h.api(gwTokenForeign, `{"pool":"team","role_arn":"`+gwReader+`"}`).Code }, 401,
			store.AuditEntry{Kind: store.AuditVend, Pool: gwTeamID, Role: gwReader, Reason: core.CodeInvalidToken}, true},
		{"no bearer token", func() int { return h.api("", `{"pool":"team"}`).Code }, 401,
			store.AuditEntry{Kind: store.AuditVend, Reason: core.CodeUnauthorized}, true},
		{"unknown pool", func() int { return h.api(gwTokenAlice, `{"pool":"nope"}`).Code }, 404,
			store.AuditEntry{Kind: store.AuditVend, Reason: core.CodeUnknownPool}, true},
		{"SAML response that does not verify (API)", func() int {
			return h.api("", `{"pool":"team","provider":"okta","saml_response":"forged"}`).Code
		}, 401, store.AuditEntry{Kind: store.AuditVend, Pool: gwTeamID, Provider: "okta", Reason: core.CodeInvalidToken}, true},
		{"SAML response that does not verify (ACS)", func() int {
			return h.browser().post("/saml/acs/okta", url.Values{"SAMLResponse": {"forged"}}).Code
		}, 401, store.AuditEntry{Kind: store.AuditVend, Pool: gwTeamID, Provider: "okta", Reason: core.CodeInvalidToken}, true},
		{"callback with an unknown state", func() int { return h.browser().get("/callback?state=deadbeef&code=x").Code }, 400,
			store.AuditEntry{Kind: store.AuditVend, Reason: core.CodeFlowExpired}, true},
		{"callback where the IdP refused", func() int {
			b := h.browser()
			return b.get("/callback?error=access_denied&state=" + flowState(b)).Code
		}, 401, store.AuditEntry{Kind: store.AuditVend, Pool: gwTeamID, Provider: "demo", Reason: core.CodeUnauthorized}, true},
		{"callback from another browser", func() int {
			return h.browser().get("/callback?code=x&state=" + flowState(h.browser())).Code
		}, 400, store.AuditEntry{Kind: store.AuditVend, Reason: core.CodeFlowExpired}, true},
		{"wrong password", func() int { return h.browser().signIn("team", "alice", pw).Code }, 401,
			store.AuditEntry{Kind: store.AuditVend, Pool: gwTeamID, Provider: "demo", Reason: core.CodeBadCredentials}, true},
		{"CLI session that does not exist", func() int {
			req := httptest.NewRequest(http.MethodPost, "/cli/credentials", strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+cli.TokenPrefix+"0000000000000000000000000000000000000000")
			return h.do(req).Code
		}, 401, store.AuditEntry{Kind: store.AuditVend, Reason: cli.CodeSessionInvalid}, true},
		{"admin callback where the IdP refused", func() int {
			b := h.browser()
			state := gwFind(t, gwStatePattern, b.get("/admin/login/demo").Body.String())
			return b.get("/callback?error=access_denied&state=" + state).Code
		}, 401, store.AuditEntry{Kind: store.AuditAdminSignIn, Provider: "demo", Reason: core.CodeUnauthorized}, true},
		{"admin sign-in with a wrong password", func() int { _, w := h.adminBrowser("carol", pw); return w.Code }, 401,
			store.AuditEntry{Kind: store.AuditAdminSignIn, Provider: "demo", Reason: core.CodeBadCredentials}, true},
		// Paths that audited before: still exactly one entry each.
		{"no matching rule (API)", func() int { return h.api(gwTokenBob, `{"pool":"team"}`).Code }, 403,
			store.AuditEntry{Kind: store.AuditVend, Pool: gwTeamID, Provider: "app", Subject: "app|bob", Reason: core.CodeNoMatchingRule}, false},
		{"no matching rule (browser)", func() int { return h.browser().signIn("team", "bob", gwPassBob).Code }, 403,
			store.AuditEntry{Kind: store.AuditVend, Pool: gwTeamID, Provider: "demo", Subject: "bob", Reason: core.CodeNoMatchingRule}, false},
		{"STS refuses the role", func() int {
			h.sts.Fail(&exchange.STSError{Status: 403, Code: "AccessDenied", Public: "Not authorized to perform sts:AssumeRoleWithWebIdentity"})
			defer h.sts.Fail(nil)
			return h.api(gwTokenAlice, `{"pool":"team"}`).Code
		}, 403, store.AuditEntry{Kind: store.AuditVend, Pool: gwTeamID, Provider: "app", Subject: "app|alice", Role: gwReader, Reason: "sts_access_denied"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cur.next()
			if got := tc.do(); got != tc.status {
				t.Fatalf("HTTP %d, want %d", got, tc.status)
			}
			es := cur.next()
			if len(es) != 1 {
				t.Fatalf("%d audit entries, want exactly 1: %+v", len(es), es)
			}
			e, w := es[0], tc.want
			if e.Kind != w.Kind || e.Result != store.AuditRefused || e.Reason != w.Reason || e.Pool != w.Pool ||
				e.Provider != w.Provider || e.Subject != w.Subject || e.Role != w.Role {
				t.Errorf("entry = %+v\nwant    kind %s result refused reason %q pool %q provider %q subject %q role %q",
					e, w.Kind, w.Reason, w.Pool, w.Provider, w.Subject, w.Role)
			}
			if e.RequestID == "" || e.Source == "" || e.Time.IsZero() {
				t.Errorf("entry lacks request id, source address or time: %+v", e)
			}
			if tc.wantNoSubj && (e.Subject != "" || e.IdentityID != "") {
				t.Errorf("a refusal before any verified identity names subject %q, identity %q", e.Subject, e.IdentityID)
			}
		})
	}

	t.Run("requests that are not credential requests are not audited", func(t *testing.T) {
		cur.next()
		for _, path := range []string{"/", "/login/team/demo", "/nowhere", "/.well-known/jwks.json"} {
			h.browser().get(path)
		}
		h.adminCall(http.MethodGet, "/admin/api/v1/pools/nope", "")
		if es := cur.next(); len(es) != 0 {
			t.Errorf("non-credential requests wrote audit entries: %+v", es)
		}
	})

	t.Run("the audit API finds refusals by reason, pool and result", func(t *testing.T) {
		var got struct{ Entries []store.AuditEntry }
		decodeBody(t, h.adminCall(http.MethodGet, "/admin/api/v1/audit?kind=vend&result=refused&q=expired_token", ""), &got)
		if len(got.Entries) != 1 || got.Entries[0].Reason != core.CodeExpiredToken {
			t.Errorf("search for expired_token = %+v", got.Entries)
		}
		got.Entries = nil
		decodeBody(t, h.adminCall(http.MethodGet, "/admin/api/v1/audit?kind=admin_sign_in&result=refused", ""), &got)
		if len(got.Entries) != 2 || got.Entries[0].Reason != core.CodeBadCredentials || got.Entries[1].Reason != core.CodeUnauthorized {
			t.Errorf("refused admin sign-ins = %+v", got.Entries)
		}
		w := h.adminCall(http.MethodGet, "/admin/audit?q=okta", "")
		if w.Code != http.StatusOK || strings.Count(w.Body.String(), core.CodeInvalidToken) < 2 {
			t.Errorf("audit page for okta: HTTP %d, want both SAML refusals", w.Code)
		}
	})
}

// TestAuditCognito: guest vends, GetOpenIdToken, and Cognito refusals are
// audited once each; guest vends count in fedgate_vends_total; rate-limit
// refusals are not written to the store.
func TestAuditCognito(t *testing.T) {
	h := newCogHarness(t)
	cur := &auditCursor{t: t, st: h.store}
	alice := h.mustID(cogPoolID, h.logins("alice"))
	bob := h.mustID(cogPoolID, h.logins("bob"))
	guest := h.mustID(cogPoolID, nil)
	expired := h.idp.token(t, "alice", cogWebClient, -10*time.Minute, nil)
	if es := cur.next(); len(es) != 0 {
		t.Fatalf("GetId that succeeded wrote audit entries: %+v", es)
	}

	type want struct {
		result, reason, provider, subject, identity, role string
	}
	cases := []struct {
		name string
		do   func() cogResult
		want want
	}{
		{"guest vend", func() cogResult { r, _ := h.creds(guest, nil, ""); return r },
			want{store.AuditOK, "unauthenticated role", core.GuestProvider, "", guest, cogGuestRole}},
		{"guest asking for another role", func() cogResult { r, _ := h.creds(guest, nil, cogAdminRole); return r },
			want{store.AuditRefused, cognito.ErrNotAuthorized, core.GuestProvider, "", guest, cogAdminRole}},
		{"login vend", func() cogResult { r, _ := h.creds(alice, h.logins("alice"), ""); return r },
			want{store.AuditOK, "rule readers", "corp", "alice", alice, cogReaderRole}},
		{"no rule for bob", func() cogResult { r, _ := h.creds(bob, h.logins("bob"), ""); return r },
			want{store.AuditRefused, core.CodeNoMatchingRule, "corp", "bob", bob, ""}},
		{"expired login on GetId", func() cogResult {
			return h.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": map[string]string{h.idp.loginKey(): expired}})
		}, want{store.AuditRefused, cognito.ErrNotAuthorized + " (" + core.CodeExpiredToken + ")", "corp", "", "", ""}},
		{"someone else's identity", func() cogResult { r, _ := h.creds(alice, h.logins("bob"), ""); return r },
			want{store.AuditRefused, cognito.ErrNotAuthorized, "corp", "", alice, ""}},
		{"GetOpenIdToken", func() cogResult {
			return h.call("GetOpenIdToken", map[string]any{"IdentityId": alice, "Logins": h.logins("alice")})
		}, want{store.AuditOK, "open id token (classic flow)", "corp", "alice", alice, ""}},
		{"unknown pool", func() cogResult { return h.call("GetId", map[string]any{"IdentityPoolId": cogUnknownID}) },
			want{store.AuditRefused, cognito.ErrResourceNotFound, "", "", "", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cur.next()
			tc.do()
			es := cur.next()
			if len(es) != 1 {
				t.Fatalf("%d audit entries, want exactly 1: %+v", len(es), es)
			}
			e, w := es[0], tc.want
			if e.Kind != store.AuditVend || e.Result != w.result || e.Reason != w.reason || e.Provider != w.provider ||
				e.Subject != w.subject || e.IdentityID != w.identity || e.Role != w.role || e.RequestID == "" {
				t.Errorf("entry = %+v\nwant %+v", e, w)
			}
			if w.reason != cognito.ErrResourceNotFound && e.Pool != cogPoolID {
				t.Errorf("pool = %q", e.Pool)
			}
		})
	}

	t.Run("guest vends count in fedgate_vends_total", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		// The guest vend and alice's vend succeeded.
		if want := `fedgate_vends_total{result="ok",surface="cognito"} 2`; !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(w.Body.String(), "fedgate_vends_total"))
		}
		h.sts.Fail(&exchange.STSError{Status: 403, Code: "AccessDenied", Public: "denied"})
		defer h.sts.Fail(nil)
		cur.next()
		h.creds(guest, nil, "")
		if es := cur.next(); len(es) != 1 || es[0].Reason != "sts_access_denied" || es[0].Result != store.AuditRefused {
			t.Errorf("guest vend refused by STS: audit %+v", es)
		}
		w = httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if want := `fedgate_vends_total{result="refused",surface="cognito"} 1`; !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(w.Body.String(), "fedgate_vends_total"))
		}
	})
}

// TestAuditSkipsRateLimitedRequests: past the limiter nothing reaches the
// store, not even an audit entry per refused request.
func TestAuditSkipsRateLimitedRequests(t *testing.T) {
	h := newCogHarness(t, func(f *config.File) {
		f.Cognito = config.Cognito{RatePerAddress: 0.001, BurstPerAddress: 2, RatePerIdentity: 1000, BurstPerIdentity: 1000}
	})
	cur := &auditCursor{t: t, st: h.store}
	limited := 0
	for range 10 {
		if r := h.call("GetId", map[string]any{"IdentityPoolId": cogUnknownID}); r.errorType() == cognito.ErrTooManyRequests {
			limited++
		}
	}
	es := cur.next()
	if limited != 8 || len(es) != 2 {
		t.Errorf("%d of 10 requests rate limited, %d audit entries; want 8 limited and 2 entries", limited, len(es))
	}
}

// TestAuditNeverHoldsTokensOrSecrets is the regression test for leaking
// credentials into the audit log: after vends and refusals of every kind,
// no ID token, SAML response, password, AWS credential or CLI session token
// appears anywhere in the exported log.
func TestAuditNeverHoldsTokensOrSecrets(t *testing.T) {
	const wrongPassword = "hunter2-wrong-password-zz"
	const bogusCLI = cli.TokenPrefix + "secretsecretsecretsecretsecretsecret0000"
	const samlResponse = "PHNhbWxwOlJlc3BvbnNlIHNlY3JldD0iMSIvPg=="
	h := newAdminHarness(t)
	withFakeSAML(h)
	var secrets []string

	secrets = append(secrets, gwTokenAlice, gwTokenBob, gwTokenExpired, gwTokenForged, gwTokenForeign, wrongPassword, gwPassAlice, gwPassBob, bogusCLI, samlResponse, gwAdminToken)
	h.api(gwTokenAlice, `{"pool":"team"}`)
	h.api(gwTokenBob, `{"pool":"team"}`)
	h.api(gwTokenExpired, `{"pool":"team"}`)
	h.api(gwTokenForged, `{"pool":"team"}`)
	h.api(gwTokenForeign, `{"pool":"team"}`)
	h.api("", `{"pool":"team","provider":"okta","saml_response":"`+samlResponse+`"}`)
	h.api("", `{"pool":"team","provider":"okta","saml_response":"good"}`)
	h.browser().post("/saml/acs/okta", url.Values{"SAMLResponse": {samlResponse}})
	h.browser().signInCreds("team", "alice", gwPassAlice)
	h.browser().signIn("team", "bob", gwPassBob)
	h.browser().signIn("team", "alice", wrongPassword)
	h.adminBrowser("carol", wrongPassword)
	req := httptest.NewRequest(http.MethodPost, "/cli/credentials", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bogusCLI)
	h.do(req)
	for _, c := range h.sts.Vended() {
		secrets = append(secrets, c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	}
	for _, in := range h.sts.WebIdentityCalls() {
		secrets = append(secrets, in.Token)
	}

	cg := newCogHarness(t)
	aliceTok := cg.token("alice")
	alice := cg.mustID(cogPoolID, map[string]string{cg.idp.loginKey(): aliceTok})
	guest := cg.mustID(cogPoolID, nil)
	_, c1 := cg.creds(alice, map[string]string{cg.idp.loginKey(): aliceTok}, "")
	_, c2 := cg.creds(guest, nil, "")
	expired := cg.idp.token(t, "alice", cogWebClient, -time.Hour, nil)
	cg.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": map[string]string{cg.idp.loginKey(): expired}})
	var oidt struct{ Token string }
	if err := json.Unmarshal(cg.call("GetOpenIdToken", map[string]any{"IdentityId": alice, "Logins": map[string]string{cg.idp.loginKey(): aliceTok}}).body, &oidt); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, aliceTok, expired, oidt.Token, c1.Credentials.SecretKey, c1.Credentials.SessionToken, c1.Credentials.AccessKeyId,
		c2.Credentials.SecretKey, c2.Credentials.SessionToken, c2.Credentials.AccessKeyId)
	for _, in := range cg.sts.WebIdentityCalls() {
		secrets = append(secrets, in.Token)
	}

	gwLog := h.adminCall(http.MethodGet, "/admin/api/v1/audit/export", "").Body.String()
	cgEntries, err := cg.store.ListAudit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	cgLog := fmt.Sprintf("%+v", cgEntries)
	if strings.Count(gwLog, "\n") < 12 || len(cgEntries) < 4 {
		t.Fatalf("too few audit entries for the check to mean anything: %d + %d", strings.Count(gwLog, "\n"), len(cgEntries))
	}
	for i, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("secret #%d is empty or short: %q", i, s)
		}
		if strings.Contains(gwLog, s) || strings.Contains(cgLog, s) {
			t.Errorf("secret #%d (%.10s…) is in the audit log", i, s)
		}
		// Nor any long piece of it (a token's payload or signature part).
		for _, part := range strings.Split(s, ".") {
			if len(part) >= 24 && (strings.Contains(gwLog, part) || strings.Contains(cgLog, part)) {
				t.Errorf("a part of secret #%d (%.10s…) is in the audit log", i, part)
			}
		}
	}
}

func grepLines(s, substr string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A flood of refusals that name nobody (garbage bearer tokens) cannot grow
// the audit log without bound: past a burst per source address they are
// not recorded, while another address still is.
func TestAnonymousRefusalFloodIsBounded(t *testing.T) {
	h := newGWHarness(t)
	refuse := func(addr string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/credentials", strings.NewReader(`{"pool":"team"}`))
		req.RemoteAddr = addr
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer garbage")
		if w := h.do(req); w.Code != http.StatusUnauthorized {
			t.Fatalf("garbage token: HTTP %d", w.Code)
		}
	}
	for range httpkit.AnonRefusalsBurst + 40 {
		refuse("192.0.2.1:1000")
	}
	if n := len(h.auditEntries(store.AuditQuery{Result: store.AuditRefused})); n != httpkit.AnonRefusalsBurst {
		t.Errorf("a flood from one address left %d refusal entries, want the burst of %d", n, httpkit.AnonRefusalsBurst)
	}
	refuse("192.0.2.2:1000")
	if n := len(h.auditEntries(store.AuditQuery{Result: store.AuditRefused})); n != httpkit.AnonRefusalsBurst+1 {
		t.Errorf("another address's refusal was not recorded: %d entries", n)
	}
}
