package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

const gwSandbox = "arn:aws:iam::210987654321:role/sandbox"

// withSandboxAccount moves the solo pool's role to a second account and
// names both accounts.
func withSandboxAccount(f *config.File) {
	f.Pools[1].Rules[0].Role = gwSandbox
	f.Pools[0].AccountAliases = map[string]string{"123456789012": "Team production"}
	f.Pools[1].AccountAliases = map[string]string{"210987654321": "Sandbox"}
}

// portalRoles are the (pool, role) pairs a portal page offers, in order.
func portalRoles(page string) [][2]string {
	var out [][2]string
	for _, m := range gwPortalRole.FindAllStringSubmatch(page, -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

// After one sign-in, the portal lists every role of every pool that
// accepts the provider, grouped by AWS account under its alias.
func TestPortalListsEveryPoolByAccount(t *testing.T) {
	h := newGWHarness(t, withSandboxAccount)
	b := h.browser()
	w := b.signIn("team", "carol", gwPassCarol)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/portal?pool=team" {
		t.Fatalf("sign-in answer: %d Location %q", w.Code, w.Header().Get("Location"))
	}
	// The picker view: the team pool's two roles, and a way to all of them.
	picker := b.portalAfter(w).Body.String()
	if got := portalRoles(picker); len(got) != 2 || got[0] != [2]string{gwTeamID, gwAdmin} || got[1] != [2]string{gwTeamID, gwReader} {
		t.Errorf("picker view roles %v", got)
	}
	if !strings.Contains(picker, "Choose a role") || !strings.Contains(picker, `id="all-roles"`) {
		t.Errorf("picker view lacks its heading or the link to all roles:\n%s", picker)
	}
	all := b.get("/portal")
	if all.Code != http.StatusOK || all.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("portal: %d %q", all.Code, all.Header().Get("Cache-Control"))
	}
	page := all.Body.String()
	if got := portalRoles(page); len(got) != 3 || got[0] != [2]string{gwSoloID, gwSandbox} || got[1][1] != gwAdmin {
		t.Errorf("portal roles %v, want the Sandbox account's, then Team production's", got)
	}
	sandbox, team := strings.Index(page, ">Sandbox <"), strings.Index(page, ">Team production <")
	if sandbox < 0 || team < 0 || sandbox > team {
		t.Errorf("accounts not grouped under their aliases in order (Sandbox at %d, Team production at %d)", sandbox, team)
	}
	for _, want := range []string{"carol@example.com", "Demo users", `datetime="2030-01-02T03:19:05Z"`, // session_ttl 15m
		"[profile fedgate-solo-sandbox]", "credential_process = fedgate credential-process --gateway http://127.0.0.1:8080 --pool " + gwSoloID + " --role " + gwSandbox,
		"region = eu-west-1", `action="/portal/sign-out"`, `formaction="/portal/console"`} {
		if !strings.Contains(page, want) {
			t.Errorf("portal lacks %q", want)
		}
	}
	// The search works without script: the server filters.
	for q, want := range map[string]int{"sandbox": 1, "team admin": 1, "TEAM": 2, "nothing-like-this": 0} {
		got := portalRoles(b.get("/portal?q=" + url.QueryEscape(q)).Body.String())
		if len(got) != want {
			t.Errorf("search %q: %d roles, want %d", q, len(got), want)
		}
	}
	// A role in another pool is vended from the same sign-in, audited.
	csrf := gwFind(t, gwCSRFPattern, page)
	if w := b.post("/roles", url.Values{"csrf": {csrf}, "pool": {gwSoloID}, "role": {gwSandbox}}); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "ASIAFAKE") {
		t.Fatalf("sandbox role from the portal: %d\n%s", w.Code, w.Body)
	}
	vends := h.auditEntries(store.AuditQuery{Kind: store.AuditVend})
	if len(vends) != 1 || vends[0].Pool != gwSoloID || vends[0].Role != gwSandbox || vends[0].Result != store.AuditOK || vends[0].Subject != "carol" {
		t.Errorf("audit of the portal vend: %+v", vends)
	}
}

// After picking a role, the browser's Back lands on the portal, which
// lasts server.session_ttl: a second role needs no second sign-in (Back
// must not re-send the spent sign-in and get sign_in_expired).
func TestPortalBackAfterPickingARole(t *testing.T) {
	h := newGWHarness(t)
	b := h.browser()
	signIn := b.signIn("team", "carol", gwPassCarol)
	if signIn.Code != http.StatusSeeOther {
		t.Fatalf("the sign-in answer is a page (%d), so Back would re-send it", signIn.Code)
	}
	portalURL := signIn.Header().Get("Location")
	page := b.get(portalURL).Body.String()
	csrf := gwFind(t, gwCSRFPattern, page)
	if w := b.post("/roles", url.Values{"csrf": {csrf}, "pool": {gwTeamID}, "role": {gwAdmin}}); w.Code != http.StatusOK {
		t.Fatalf("first role: %d", w.Code)
	}
	h.clock.Advance(h.cfg.Server.SessionTTL.D() - time.Minute)
	back := b.get(portalURL) // what Back reloads (the pages are no-store)
	if back.Code != http.StatusOK || len(portalRoles(back.Body.String())) != 2 {
		t.Fatalf("Back to the portal: %d\n%s", back.Code, back.Body)
	}
	if w := b.post("/roles", url.Values{"csrf": {gwFind(t, gwCSRFPattern, back.Body.String())}, "pool": {gwTeamID}, "role": {gwReader}}); w.Code != http.StatusOK {
		t.Fatalf("second role without signing in again: %d\n%s", w.Code, w.Body)
	}
	if calls := h.sts.WebIdentityCalls(); len(calls) != 2 || calls[0].RoleARN != gwAdmin || calls[1].RoleARN != gwReader {
		t.Errorf("STS calls %+v", calls)
	}
	// Past server.session_ttl the portal sends the browser to sign in.
	h.clock.Advance(2 * time.Minute)
	h.sts.Reset()
	if w := b.get(portalURL); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/?signed_out=expired" {
		t.Errorf("portal after the session: %d %q", w.Code, w.Header().Get("Location"))
	}
	h.refusal(t, func() *httptest.ResponseRecorder {
		return b.post("/roles", url.Values{"csrf": {csrf}, "pool": {gwTeamID}, "role": {gwReader}})
	}, http.StatusUnauthorized, core.CodeSessionExpired)
}

// Signing out ends the session: the portal and its forms refuse it.
func TestPortalSignOut(t *testing.T) {
	h := newGWHarness(t)
	b := h.browser()
	page := b.signInPortal("team", "carol", gwPassCarol).Body.String()
	csrf := gwFind(t, gwCSRFPattern, page)
	if w := b.post("/portal/sign-out", url.Values{"csrf": {"wrong"}}); w.Code != http.StatusForbidden {
		t.Errorf("sign-out with a wrong token: %d", w.Code)
	}
	stolen := b.cookies[sessCookie]
	w := b.post("/portal/sign-out", url.Values{"csrf": {csrf}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/?signed_out=1" {
		t.Fatalf("sign-out: %d %q", w.Code, w.Header().Get("Location"))
	}
	if _, ok := b.cookies[sessCookie]; ok {
		t.Error("the session cookie outlived the sign-out")
	}
	if !strings.Contains(b.get("/?signed_out=1").Body.String(), "You are signed out") {
		t.Error("the start page does not say the person signed out")
	}
	b.cookies[sessCookie] = stolen // a copy of the cookie kept from before
	h.refusal(t, func() *httptest.ResponseRecorder {
		return b.post("/roles", url.Values{"csrf": {csrf}, "pool": {gwTeamID}, "role": {gwReader}})
	}, http.StatusUnauthorized, core.CodeSessionExpired)
}

// The portal's forms refuse a pool the sign-in does not open and a role
// the pool does not give; both are audited.
func TestPortalRefusesOtherPoolsAndRoles(t *testing.T) {
	h := newGWHarness(t, func(f *config.File) {
		f.Pools[1].Providers = []string{"app"} // solo no longer takes the demo provider
	})
	b := h.browser()
	csrf := gwFind(t, gwCSRFPattern, b.signInPortal("team", "carol", gwPassCarol).Body.String())
	h.refusal(t, func() *httptest.ResponseRecorder {
		return b.post("/roles", url.Values{"csrf": {csrf}, "pool": {gwSoloID}, "role": {gwSolo}})
	}, http.StatusForbidden, core.CodeRoleNotEntitled)
	h.refusal(t, func() *httptest.ResponseRecorder {
		return b.post("/portal/console", url.Values{"csrf": {csrf}, "pool": {gwTeamID}, "role": {gwSolo}})
	}, http.StatusForbidden, core.CodeRoleNotEntitled)
	entries := h.auditEntries(store.AuditQuery{Kind: store.AuditVend})
	if len(entries) != 2 || entries[0].Result != store.AuditRefused || entries[1].Result != store.AuditRefused || entries[0].Subject != "carol" {
		t.Errorf("audit of the refusals: %+v", entries)
	}
}

// The console button of a portal row vends and opens the console at once.
func TestPortalOpensTheConsole(t *testing.T) {
	fed := &federationDouble{}
	srv := httptest.NewServer(fed)
	defer srv.Close()
	h := newGWHarness(t, func(f *config.File) {
		f.Console.FederationURL = srv.URL + "/federation"
		f.Server.AllowUpstreamCIDRs = []string{"127.0.0.0/8"} // the double runs on loopback
	})
	b := h.browser()
	csrf := gwFind(t, gwCSRFPattern, b.signInPortal("team", "carol", gwPassCarol).Body.String())
	w := b.post("/portal/console", url.Values{"csrf": {csrf}, "pool": {gwTeamID}, "role": {gwReader}})
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Refresh"), "0; url="+srv.URL+"/federation?") {
		t.Fatalf("console: %d Refresh %q", w.Code, w.Header().Get("Refresh"))
	}
	if len(fed.queries) != 1 || len(h.sts.WebIdentityCalls()) != 1 || h.sts.WebIdentityCalls()[0].RoleARN != gwReader {
		t.Errorf("federation calls %d, STS calls %+v", len(fed.queries), h.sts.WebIdentityCalls())
	}
	if v := h.auditEntries(store.AuditQuery{Kind: store.AuditVend}); len(v) != 1 || v[0].Result != store.AuditOK || v[0].Role != gwReader {
		t.Errorf("audit: %+v", v)
	}
}

// The start page says what durations the rules can give, not the pool's
// default alone; the portal says it per role.
func TestDurationsOnStartPageAndPortal(t *testing.T) {
	h := newGWHarness(t, func(f *config.File) { f.Pools[0].Rules[0].DurationSeconds = 7200 })
	start := h.browser().get("/").Body.String()
	if !strings.Contains(start, "credentials for 1 h to 2 h, depending on the role") {
		t.Errorf("team pool's durations not on the start page:\n%s", start)
	}
	if !strings.Contains(start, "credentials for up to 1 h</p>") {
		t.Errorf("solo pool's duration not on the start page")
	}
	page := h.browser().signInPortal("team", "carol", gwPassCarol).Body.String()
	durations := regexp.MustCompile(`Team · up to ([^<·]+?) ·`).FindAllStringSubmatch(page, -1)
	if len(durations) != 2 || durations[0][1] != "2 h" || durations[1][1] != "1 h" {
		t.Errorf("per-role durations %v, want admin 2 h and reader 1 h", durations)
	}
}
