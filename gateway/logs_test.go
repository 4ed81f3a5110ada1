package gateway

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"fedgate/exchange"
)

// TestLogsNeverCarrySecrets drives every flow, successful and refused, and
// then searches the whole log for any secret that passed through: the
// passwords, bearer tokens, the tokens fedgate minted, the vended secret
// keys and session tokens, flow states, binding and session cookies and
// CSRF tokens.
func TestLogsNeverCarrySecrets(t *testing.T) {
	h := newGWHarness(t)
	secrets := map[string]string{
		"alice's password": gwPassAlice, "carol's password": gwPassCarol, "bob's password": gwPassBob,
		"a wrong password": "Wr0ng-Passw0rd-Typed",
	}
	addCookies := func(b *gwBrowser) {
		for k, v := range b.cookies {
			secrets["cookie "+k+" "+v[:8]] = v
		}
	}

	// Browser: wrong password, right password, picker, pick, replay.
	b := h.browser()
	state := b.startLogin("team")
	secrets["state 1"] = state
	addCookies(b)
	w := b.post("/login/team/demo", url.Values{"state": {state}, "username": {"alice"}, "password": {"Wr0ng-Passw0rd-Typed"}})
	fresh := gwFind(t, gwStatePattern, w.Body.String())
	secrets["state 2"] = fresh
	addCookies(b)
	b.post("/login/team/demo", aliceForm(fresh))
	b.post("/login/team/demo", aliceForm(fresh))
	pb, csrf := carolPicker(t, h)
	secrets["csrf"] = csrf
	addCookies(pb)
	pb.post("/roles", url.Values{"csrf": {csrf}, "role": {gwAdmin}})
	pb.post("/roles", url.Values{"csrf": {"forged-" + csrf}, "role": {gwAdmin}})
	h.browser().signIn("team", "bob", gwPassBob)
	// A password typed into the username field is not logged either.
	h.browser().signIn("team", "Us3rname-Was-A-Passw0rd", "x")
	secrets["password in the username field"] = "Us3rname-Was-A-Passw0rd"

	// API: success, each kind of token refusal, STS refusal.
	for name, tok := range map[string]string{"alice": gwTokenAlice, "carol": gwTokenCarol, "bob": gwTokenBob,
		"expired": gwTokenExpired, "forged": gwTokenForged, "foreign": gwTokenForeign} {
		secrets["bearer "+name] = tok
		secrets["bearer signature "+name] = tok[strings.LastIndex(tok, ".")+1:]
		h.api(tok, `{"pool":"team"}`)
		h.api(tok, `{"pool":"team","role_arn":"`+gwAdmin+`"}`)
	}
	h.api("Opaque-Access-Token-123456", `{"pool":"team"}`)
	secrets["opaque bearer"] = "Opaque-Access-Token-123456"
	h.sts.Fail(exchange.NewSTSError(exchange.CodeAccessDenied, errors.New("AccessDenied: not authorized")))
	h.api(gwTokenAlice, `{"pool":"team"}`)

	// What STS saw and gave.
	calls := h.sts.WebIdentityCalls()
	if len(calls) < 4 {
		t.Fatalf("only %d STS calls; the flows did not run", len(calls))
	}
	for _, c := range calls {
		secrets["minted token for "+c.RoleARN] = c.Token
	}
	for _, c := range h.sts.Vended() {
		secrets["secret access key "+c.AccessKeyID] = c.SecretAccessKey
		secrets["session token "+c.AccessKeyID] = c.SessionToken
	}

	logs := h.logs.String()
	if !strings.Contains(logs, "credentials vended") || !strings.Contains(logs, "request refused") {
		t.Fatalf("the log does not show the flows ran:\n%s", logs)
	}
	for what, s := range secrets {
		if s == "" {
			t.Errorf("%s: empty secret in the test", what)
			continue
		}
		if strings.Contains(logs, s) {
			t.Errorf("the log carries %s (%q)", what, s)
		}
	}
}

// Access lines carry the path only: a callback's code and state are in the
// query and never logged.
func TestAccessLogOmitsQuery(t *testing.T) {
	h := newGWHarness(t)
	b := h.browser()
	b.get("/callback?code=Auth-Code-Secret-987&state=State-Secret-654")
	logs := h.logs.String()
	if strings.Contains(logs, "Auth-Code-Secret-987") || strings.Contains(logs, "State-Secret-654") {
		t.Fatalf("query logged:\n%s", logs)
	}
	if !strings.Contains(logs, `"path":"/callback"`) {
		t.Fatalf("no access line:\n%s", logs)
	}
	if w := b.get("/callback?state=x"); w.Code != http.StatusBadRequest {
		t.Errorf("callback with unknown state: %d", w.Code)
	}
}

// Made-up methods cannot create metric series without bound.
func TestMetricsMethodLabelIsBounded(t *testing.T) {
	h := newGWHarness(t)
	for i := range 50 {
		req := httptest.NewRequest("X"+strconv.Itoa(i)+strings.Repeat("A", 100), "/", nil)
		h.do(req)
	}
	body := h.do(httptest.NewRequest(http.MethodGet, "/metrics", nil)).Body.String()
	if strings.Contains(body, "AAAA") || !strings.Contains(body, `method="OTHER"`) {
		t.Errorf("made-up methods reached the metric labels:\n%.2000s", body)
	}
}
