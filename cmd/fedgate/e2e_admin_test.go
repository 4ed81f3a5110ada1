package main

// End-to-end tests of the admin UI and API against the real
// binary, the real upstream IdP (oidc-provider), moto with IAM enforcement
// and, for the browser test, real headless Chromium.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/testkit"
)

const (
	e2eAdminTokenEnv = "FEDGATE_E2E_ADMIN_TOKEN"
	e2eAdminToken    = "e2e-admin-token-0123456789abcdef0123456789" // test-only
	salesBucket      = "sales-data"
)

// withAdmin turns on /admin: carol (group admins) is an owner, alice
// (engineering) a viewer, bob nobody; the API token is an owner.
func withAdmin(e *env) string {
	return e.adminToken("owner") + `  providers: [corp]
  rules:
    - name: platform admins
      match: [{claim: groups, op: equals, value: admins}]
      role: owner
    - name: engineers may look
      match: [{claim: groups, op: equals, value: engineering}]
      role: viewer
`
}

func startAdminEnv(t *testing.T) *env {
	t.Helper()
	return startEnv(t, withAdmin)
}

// adminAPI calls the admin API with the API token (or the given client's
// session when c is not nil), headers as name, value pairs.
func (e *env) adminAPI(c *http.Client, method, path, body string, header ...string) response {
	e.t.Helper()
	token := ""
	if c == nil {
		token = e2eAdminToken
	}
	contentType := ""
	if body != "" {
		contentType = "application/json"
	}
	return send(e.t, c, method, e.url+path, body, append([]string{"Content-Type", contentType, "Authorization", bearer(token)}, header...)...)
}

// auditEntry is one line of the admin audit API.
type auditEntry struct {
	IdentityID string `json:"identity_id"`
	Provider   string `json:"provider"`
	Subject    string `json:"subject"`
	Pool       string `json:"pool"`
	Role       string `json:"role"`
	Source     string `json:"source_address"`
	RequestID  string `json:"request_id"`
	Kind       string `json:"kind"`
	Result     string `json:"result"`
	Reason     string `json:"reason"`
	Actor      string `json:"actor"`
	Version    int64  `json:"version"`
}

// audit reads the audit log's entries that query (of the audit API) selects.
func (e *env) audit(t *testing.T, query string) []auditEntry {
	t.Helper()
	r := e.adminAPI(nil, http.MethodGet, "/admin/api/v1/audit?"+query, "")
	if r.status != http.StatusOK {
		t.Fatalf("audit %s: HTTP %d %s", query, r.status, r.body)
	}
	var got struct{ Entries []auditEntry }
	r.json(t, &got)
	return got.Entries
}

// configVersion is one configuration version in the admin history.
type configVersion struct {
	Version int64  `json:"version"`
	Source  string `json:"source"`
	Comment string `json:"comment"`
	Author  string `json:"author"`
}

// versions are the newest limit versions, newest first.
func (e *env) versions(t *testing.T, limit int) []configVersion {
	t.Helper()
	var vs struct {
		Versions []configVersion `json:"versions"`
	}
	e.adminAPI(nil, http.MethodGet, fmt.Sprintf("/admin/api/v1/versions?limit=%d", limit), "").json(t, &vs)
	return vs.Versions
}

// ruleNames are the names of a pool's live rules, in order.
func (e *env) ruleNames(t *testing.T, pool string) []string {
	t.Helper()
	var rl struct {
		Rules []struct {
			Data struct{ Name string } `json:"data"`
		} `json:"rules"`
	}
	e.adminAPI(nil, http.MethodGet, "/admin/api/v1/pools/"+pool+"/rules", "").json(t, &rl)
	names := make([]string, 0, len(rl.Rules))
	for _, r := range rl.Rules {
		names = append(names, r.Data.Name)
	}
	return names
}

// adminSignIn signs user in to /admin through the real IdP's pages (over
// HTTP) and returns the client and the status of the page it lands on.
func (e *env) adminSignIn(user string) (*http.Client, int) {
	e.t.Helper()
	c := browser(e.t)
	cb := e.idp.Login(e.t, c, e.url+"/admin/login/corp", user)
	status, _, _ := get(e.t, c, cb.String())
	return c, status
}

// TestEndToEndAdminBrowser is what an admin does, in real Chromium: sign in
// through the IdP's own pages, add a rule, simulate the person it is for,
// and roll it back; that person gets the new role's credentials from moto
// in between, and is refused again after the rollback.
func TestEndToEndAdminBrowser(t *testing.T) {
	e := startAdminEnv(t)
	salesRole := e.moto.CreateRole(t, "sales-analyst", teamAccountTrust, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::sales-data"}]}`)
	e.moto.CreateBucket(t, salesBucket, map[string]string{"q3.csv": "region,total"})

	// bob matches no rule of the team pool yet.
	if _, r := e.signInPage("team", "bob"); r.status != http.StatusForbidden {
		t.Fatalf("bob before the change: HTTP %d, want 403", r.status)
	}

	shots := screenshotDir(t)
	b := peers.StartChromium(t, 1280, 1000, 3*time.Minute)
	var text string

	b.Run(t, "open /admin", chromedp.Navigate(e.url+"/admin"), chromedp.WaitVisible(chromedp.CSS("a.button")))
	text = b.Text(t, "main")
	if !strings.Contains(text, "Sign in with Corp SSO") {
		t.Fatalf("/admin without a session shows:\n%s", text)
	}
	b.Shot(t, shots, "01-admin-sign-in")
	b.Run(t, "go to the IdP", chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.ID("login")))
	b.SignInAtIdP(t, "carol", "nav.admin-nav")
	text = b.Text(t, "main")
	if !strings.Contains(text, "carol@example.com") || !strings.Contains(text, "owner") || !strings.Contains(text, "Team account") {
		t.Fatalf("admin home after sign-in:\n%s", text)
	}
	b.Shot(t, shots, "02-admin-home")
	// mappings.source: store: no file banner, and the export is offered.
	if b.Attr(t, "#mappings-from-file", "role") != "" {
		t.Errorf("the file banner shows under mappings.source: store")
	}
	if exported := string(b.Download(t, "#export-yaml")); !strings.Contains(exported, "name: team") || strings.Contains(exported, e2eClientSecret) {
		t.Errorf("Export as YAML downloaded:\n%s", exported)
	}

	b.Run(t, "open the team pool", chromedp.Navigate(e.url+"/admin/pools/team"), chromedp.WaitVisible(chromedp.ID("add-rule")))
	b.Shot(t, shots, "03-pool-before")
	b.Run(t, "fill the new rule", chromedp.Click(chromedp.ID("add-rule")), chromedp.WaitVisible(chromedp.ID("save-rule")),
		chromedp.SendKeys(chromedp.ID("name"), "sales analysts"),
		chromedp.SendKeys(chromedp.ID("claim_0"), "groups"), chromedp.SetValue(chromedp.ID("op_0"), "equals"),
		chromedp.SendKeys(chromedp.ID("value_0"), "sales"), chromedp.SendKeys(chromedp.ID("role"), salesRole))
	b.Shot(t, shots, "04-rule-form")
	b.Run(t, "save the rule", chromedp.Click(chromedp.ID("save-rule")), chromedp.WaitVisible(chromedp.CSS("p.notice.ok")))
	text = b.Text(t, "main")
	if !strings.Contains(text, "sales analysts") || !strings.Contains(text, "It is live now") {
		t.Fatalf("pool page after saving:\n%s", text)
	}
	b.Shot(t, shots, "05-pool-saved")
	added := latestVersion(t, e)

	claims := `{"sub": "bob", "email": "bob@example.com", "groups": ["sales"], "department": "sales"}`
	b.Run(t, "simulate bob", chromedp.Navigate(e.url+"/admin/simulate?pool=team"), chromedp.WaitVisible(chromedp.ID("simulate")),
		chromedp.SetValue(chromedp.ID("claims"), claims), chromedp.Click(chromedp.ID("simulate")),
		chromedp.WaitVisible(chromedp.ID("result")))
	text = b.Text(t, "#result")
	for _, want := range []string{"bob would get 1 role(s)", "sales analysts", "matched", `groups[0]="sales" equals "sales"`,
		`groups: no element equals "s3-readers"`, salesRole, "department=sales", "sts:AssumeRoleWithWebIdentity", poolGatewayID} {
		if !strings.Contains(text, want) {
			t.Errorf("simulation lacks %q:\n%s", want, text)
		}
	}
	b.Shot(t, shots, "06-simulate-bob")

	// bob signs in as a person would and gets the new role's credentials.
	_, page := e.signInCreds("team", "bob")
	if !strings.Contains(page, salesRole) {
		t.Fatalf("bob after the change:\n%s", page)
	}
	e.moto.CheckS3(t, credsFromPage(t, page), peers.Lists(salesBucket, "q3.csv"), peers.Denied(peers.Lists(teamBucket)))

	// Roll back to the version before the rule.
	b.Run(t, "open the history", chromedp.Navigate(e.url+"/admin/history"), chromedp.WaitVisible(chromedp.CSS("table.grid")))
	b.Shot(t, shots, "07-history")
	b.Run(t, "restore", chromedp.Navigate(fmt.Sprintf("%s/admin/history/%d", e.url, added)), chromedp.WaitVisible(chromedp.CSS("table.diff")))
	text = b.Text(t, "main")
	if !strings.Contains(text, "pools[team].rules[1].role") || !strings.Contains(text, salesRole) {
		t.Errorf("version %d diff:\n%s", added, text)
	}
	b.Shot(t, shots, "08-version-diff")
	b.Run(t, "restore the version before", chromedp.Navigate(fmt.Sprintf("%s/admin/history/%d", e.url, added-1)),
		chromedp.WaitVisible(chromedp.ID("restore")), chromedp.Click(chromedp.ID("restore")),
		chromedp.WaitVisible(chromedp.CSS("p.notice.ok")))
	text = b.Text(t, "main")
	if !strings.Contains(text, fmt.Sprintf("restored version %d", added-1)) {
		t.Errorf("history after the restore:\n%s", text)
	}
	b.Shot(t, shots, "09-restored")

	if _, r := e.signInPage("team", "bob"); r.status != http.StatusForbidden {
		t.Fatalf("bob after the rollback: HTTP %d, want 403\n%s", r.status, r.body)
	}

	b.Run(t, "audit log", chromedp.Navigate(e.url+"/admin/audit?q=bob"), chromedp.WaitVisible(chromedp.CSS("table.audit")))
	text = b.Text(t, "table.audit")
	for _, want := range []string{"no_matching_rule", "rule sales analysts", salesRole, "refused", "ok"} {
		if !strings.Contains(text, want) {
			t.Errorf("audit log lacks %q:\n%s", want, text)
		}
	}
	b.Shot(t, shots, "10-audit")
	t.Logf("screenshots in %s", shots)
}

func latestVersion(t *testing.T, e *env) int64 {
	t.Helper()
	vs := e.versions(t, 1)
	if len(vs) != 1 {
		t.Fatalf("no versions")
	}
	return vs[0].Version
}

// TestEndToEndAdminAPI: the API over real sockets, with real sessions of
// the real IdP's users, a real ID token for simulate, and the CLI.
func TestEndToEndAdminAPI(t *testing.T) {
	e := startAdminEnv(t)

	carol, status := e.adminSignIn("carol")
	if status != http.StatusOK {
		t.Fatalf("carol's admin sign-in: HTTP %d", status)
	}
	alice, status := e.adminSignIn("alice")
	if status != http.StatusOK {
		t.Fatalf("alice's admin sign-in: HTTP %d", status)
	}
	if _, status := e.adminSignIn("bob"); status != http.StatusForbidden {
		t.Errorf("bob's admin sign-in: HTTP %d, want 403", status)
	}

	t.Run("non-admins are refused everywhere", func(t *testing.T) {
		anon := browser(t)
		for _, path := range []string{"/admin/api/v1/pools", "/admin/api/v1/mappings", "/admin/api/v1/audit", "/admin/api/v1/versions"} {
			if r := e.adminAPI(anon, http.MethodGet, path, ""); r.status != http.StatusUnauthorized || r.code(t) != "unauthorized" {
				t.Errorf("GET %s anonymous: %d %s", path, r.status, r.body)
			}
			if r := e.adminAPI(anon, http.MethodGet, path, "", "Authorization", "Bearer "+e.token("carol", e2eClientID, 5*time.Minute)); r.status != http.StatusUnauthorized {
				t.Errorf("GET %s with carol's ID token: %d", path, r.status)
			}
		}
		if r := e.adminAPI(anon, http.MethodGet, "/admin", ""); r.status != http.StatusUnauthorized {
			t.Errorf("GET /admin anonymous: %d", r.status)
		}
	})

	t.Run("viewer reads but cannot write", func(t *testing.T) {
		if r := e.adminAPI(alice, http.MethodGet, "/admin/api/v1/pools/team", ""); r.status != 200 {
			t.Errorf("viewer read: %d", r.status)
		}
		var me struct {
			Role      string `json:"role"`
			CSRFToken string `json:"csrf_token"`
		}
		e.adminAPI(alice, http.MethodGet, "/admin/api/v1/me", "").json(t, &me)
		r := e.adminAPI(alice, http.MethodPost, "/admin/api/v1/pools/team/rules", `{"role":"`+e.readerRole+`"}`, "X-CSRF-Token", me.CSRFToken)
		if r.status != http.StatusForbidden || r.code(t) != "forbidden" {
			t.Errorf("viewer write: %d %s", r.status, r.body)
		}
	})

	t.Run("a form post without the CSRF token is refused", func(t *testing.T) {
		v := latestVersion(t, e)
		status, _ := postForm(t, carol, e.url+"/admin/pools/team/rules/_new", url.Values{"name": {"x"}, "role": {e.readerRole}})
		if status != http.StatusForbidden {
			t.Errorf("HTTP %d, want 403", status)
		}
		if latestVersion(t, e) != v {
			t.Errorf("the refused post made a version")
		}
	})

	t.Run("providers, pools and rules: create, stale ETag, validation", func(t *testing.T) {
		const newPool = "us-west-2:2b3c4d5e-6f70-4a1b-8c2d-3e4f5a6b7c8d"
		cases := []struct{ name, collection, item, create, update, invalid, problemPath string }{
			{"provider", "/admin/api/v1/providers", "/admin/api/v1/providers/partner",
				`{"id":"partner","type":"oidc","issuer":"https://partner.example.com","client_id":"p","client_secret":"partner-secret"}`,
				`{"id":"partner","type":"oidc","display_name":"Partner","issuer":"https://partner.example.com","client_id":"p"}`,
				`{"id":"partner","type":"oidc","issuer":"https://partner.example.com","client_id":"p","allowed_algorithms":["HS256"]}`, "providers[1].allowed_algorithms[0]"},
			{"pool", "/admin/api/v1/pools", "/admin/api/v1/pools/west",
				`{"id":"` + newPool + `","name":"west","providers":["corp"]}`,
				`{"id":"` + newPool + `","name":"west","display_name":"West","providers":["corp"]}`,
				`{"id":"` + newPool + `","name":"west","providers":["corp"],"mode":"carrier-pigeon"}`, "pools[3].mode"},
			{"rule", "/admin/api/v1/pools/team/rules", "/admin/api/v1/pools/team/rules/1",
				`{"name":"readers too","match":[{"claim":"department","op":"equals","value":"eng"}],"role":"` + e.readerRole + `"}`,
				`{"name":"readers too","match":[{"claim":"department","op":"any_of","values":["eng","sre"]}],"role":"` + e.readerRole + `"}`,
				`{"name":"readers too","cel":"claims.groups.exists(g, ","role":"` + e.readerRole + `"}`, "pools[0].rules[1].cel"},
		}
		for _, cs := range cases {
			t.Run(cs.name, func(t *testing.T) {
				r := e.adminAPI(nil, http.MethodPost, cs.collection, cs.create)
				if r.status != http.StatusCreated {
					t.Fatalf("create: %d %s", r.status, r.body)
				}
				stale := r.header.Get("ETag")
				r = e.adminAPI(nil, http.MethodPut, cs.item, cs.update, "If-Match", stale)
				if r.status != http.StatusOK {
					t.Fatalf("update: %d %s", r.status, r.body)
				}
				fresh := r.header.Get("ETag")
				if r := e.adminAPI(nil, http.MethodPut, cs.item, cs.update); r.status != http.StatusPreconditionRequired {
					t.Errorf("update without If-Match: %d, want 428", r.status)
				}
				if r := e.adminAPI(nil, http.MethodPut, cs.item, cs.create, "If-Match", stale); r.status != http.StatusPreconditionFailed || r.code(t) != "precondition_failed" {
					t.Errorf("update with a stale ETag: %d %s", r.status, r.body)
				}
				r = e.adminAPI(nil, http.MethodPut, cs.item, cs.invalid, "If-Match", fresh)
				var pr struct {
					Problems []struct{ Path, Message string }
				}
				r.json(t, &pr)
				if r.status != http.StatusUnprocessableEntity || len(pr.Problems) == 0 || pr.Problems[0].Path != cs.problemPath {
					t.Errorf("invalid update: %d %s, want 422 at %s", r.status, r.body, cs.problemPath)
				}
				if r := e.adminAPI(nil, http.MethodDelete, cs.item, "", "If-Match", fresh); r.status != http.StatusNoContent {
					t.Errorf("delete: %d %s", r.status, r.body)
				}
			})
		}
	})

	t.Run("simulate with a real ID token vends nothing", func(t *testing.T) {
		calls, _ := e.tap.Snapshot()
		ids := e.identityCount()
		r := e.adminAPI(nil, http.MethodPost, "/admin/api/v1/simulate", `{"pool":"team","id_token":"`+e.token("alice", e2eClientID, 5*time.Minute)+`"}`)
		var sim struct {
			Verified bool
			Granted  bool
			Subject  string
			Grants   []struct {
				Role        string
				TrustPolicy string            `json:"trust_policy"`
				Tags        map[string]string `json:"session_tags"`
			}
		}
		r.json(t, &sim)
		if r.status != 200 || !sim.Verified || !sim.Granted || sim.Subject != "alice" || len(sim.Grants) != 1 || sim.Grants[0].Role != e.readerRole ||
			sim.Grants[0].Tags["department"] != "eng" || !strings.Contains(sim.Grants[0].TrustPolicy, `"`+strings.TrimPrefix(e.url, "http://")+`:aud": "`+poolGatewayID+`"`) {
			t.Errorf("simulate: %d %s", r.status, r.body)
		}
		r = e.adminAPI(nil, http.MethodPost, "/admin/api/v1/simulate", `{"pool":"team","id_token":"`+e.token("alice", e2eClientID, -time.Minute)+`"}`)
		if r.status != http.StatusUnauthorized || r.code(t) != "expired_token" {
			t.Errorf("simulate with an expired token: %d %s", r.status, r.body)
		}
		if c, _ := e.tap.Snapshot(); c != calls || e.identityCount() != ids {
			t.Errorf("simulate called STS or stored an identity")
		}
	})

	t.Run("mappings export and apply (GitOps)", func(t *testing.T) {
		out, err := e.fedgate("mappings", "export")
		if err != nil {
			t.Fatalf("export: %v\n%s", err, out)
		}
		if strings.Contains(out, e2eClientSecret) || !strings.Contains(out, "client_secret: ••••") || !strings.Contains(out, "name: s3 readers") {
			t.Fatalf("export:\n%s", out)
		}
		edited := strings.Replace(out, "display_name: Team account", "display_name: Team account (GitOps)", 1)
		file := filepath.Join(e.dir, "mappings.yaml")
		if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		v := latestVersion(t, e)
		dry, err := e.fedgate("mappings", "apply", "--dry-run", file)
		if err != nil || !strings.Contains(dry, "~ pools[team].display_name: Team account -> Team account (GitOps)") || !strings.Contains(dry, "dry run: 1 change(s)") {
			t.Fatalf("dry run: %v\n%s", err, dry)
		}
		if latestVersion(t, e) != v {
			t.Fatalf("the dry run made a version")
		}
		applied, err := e.fedgate("mappings", "apply", "--comment", "rename via git", file)
		if err != nil || !strings.Contains(applied, fmt.Sprintf("applied as version %d", v+1)) {
			t.Fatalf("apply: %v\n%s", err, applied)
		}
		bad := strings.Replace(out, "mode: gateway-token", "mode: nonsense", 1)
		if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if res, err := e.fedgate("mappings", "apply", file); err == nil || !strings.Contains(res, "pools[0].mode") || !strings.Contains(res, "nothing applied") {
			t.Errorf("invalid apply: %v\n%s", err, res)
		}
		// The running gateway picks the CLI's version up, and the kept
		// client secret still works: an admin signs in through the IdP.
		if !testkit.Eventually(10*time.Second, 200*time.Millisecond, func() bool {
			_, _, page := get(t, browser(t), e.url+"/")
			return strings.Contains(page, "Team account (GitOps)")
		}) {
			t.Fatalf("the gateway did not pick up the applied version")
		}
		if _, status := e.adminSignIn("carol"); status != http.StatusOK {
			t.Errorf("admin sign-in after apply (client secret kept?): HTTP %d", status)
		}
		var vd configVersion
		e.adminAPI(nil, http.MethodGet, fmt.Sprintf("/admin/api/v1/versions/%d", v+1), "").json(t, &vd)
		if vd.Source != "cli" || vd.Comment != "rename via git" || !strings.HasPrefix(vd.Author, "cli") {
			t.Errorf("applied version = %+v", vd)
		}
	})

	t.Run("a provider aimed at the metadata address is never contacted", func(t *testing.T) { upstreamAddressRefused(t, e) })
}

// TestEndToEndAdminCrashSafety kills the gateway with SIGKILL in the middle
// of a stream of writes; after a restart every acknowledged change is in
// the history, each version has exactly one audit entry, and the live
// version is whole.
func TestEndToEndAdminCrashSafety(t *testing.T) {
	e := startAdminEnv(t)
	start := latestVersion(t, e)
	var acked sync.Map // version -> rule name
	var stop, killing atomic.Bool
	var cutMu sync.Mutex
	var cut []string // writes sent whole before the kill and never answered
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				name := fmt.Sprintf("w%d-%d", w, i)
				// sentBeforeKill: the whole request reached the gateway's
				// socket before the SIGKILL was sent.
				var sentBeforeKill atomic.Bool
				trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
					if info.Err == nil && !killing.Load() {
						sentBeforeKill.Store(true)
					}
				}}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost,
					e.url+"/admin/api/v1/pools/picker/rules",
					strings.NewReader(`{"name":"`+name+`","match":[{"claim":"sub","op":"equals","value":"`+name+`"}],"role":"`+e.readerRole+`"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
				resp, err := client.Do(req)
				if err != nil {
					if sentBeforeKill.Load() { // in flight when the gateway died
						cutMu.Lock()
						cut = append(cut, name)
						cutMu.Unlock()
					}
					return // the gateway is gone
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					v, _ := strconv.ParseInt(resp.Header.Get("Fedgate-Config-Version"), 10, 64)
					acked.Store(v, name)
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	killing.Store(true)
	if err := e.proc.Kill(); err != nil { // SIGKILL: no shutdown, no flush
		t.Fatal(err)
	}
	stop.Store(true)
	wg.Wait()
	n := 0
	acked.Range(func(_, _ any) bool { n++; return true })
	if n < 5 {
		t.Fatalf("only %d writes were acknowledged before the kill; the test needs a stream", n)
	}
	// The kill must have cut writes off mid-way, or it proves nothing.
	if len(cut) == 0 {
		t.Fatalf("no write was in flight when the gateway was killed")
	}
	e.start() // same database, same port

	vs := e.versions(t, 1000)
	audit := e.audit(t, "kind=admin_change&limit=1000")
	audited := map[int64]int{}
	for _, a := range audit {
		audited[a.Version]++
	}
	stored := map[int64]string{}
	for i, v := range vs {
		if want := vs[0].Version - int64(i); v.Version != want {
			t.Errorf("versions are not contiguous: %d where %d belongs", v.Version, want)
		}
		stored[v.Version] = v.Comment
		if v.Version > start && audited[v.Version] != 1 {
			t.Errorf("version %d has %d audit entries, want 1", v.Version, audited[v.Version])
		}
	}
	if len(audit) != int(vs[0].Version-start) {
		t.Errorf("%d admin audit entries for %d new versions", len(audit), vs[0].Version-start)
	}
	acked.Range(func(k, v any) bool {
		if !strings.Contains(stored[k.(int64)], fmt.Sprintf("%q", v)) {
			t.Errorf("acknowledged version %d (rule %s) is missing or different: %q", k, v, stored[k.(int64)])
		}
		return true
	})
	// The live document is whole: every rule named in a version is there.
	if got, want := len(e.ruleNames(t, "picker")), 2+int(vs[0].Version-start); got != want {
		t.Errorf("picker has %d rules after the crash, want %d (2 + one per version)", got, want)
	}
	// A write cut off mid-way is either whole in the history (committed
	// before the kill, never acknowledged) or not there at all.
	committed := 0
	for _, name := range cut {
		for _, c := range stored {
			if strings.Contains(c, fmt.Sprintf("%q", name)) {
				committed++
			}
		}
	}
	t.Logf("%d writes acknowledged before SIGKILL, %d cut off in flight (%d of those committed, unacknowledged); %d versions stored; all consistent",
		n, len(cut), committed, vs[0].Version-start)
}

// TestEndToEndAdminLoad: 50 concurrent editors on one pool over loopback.
// Half add rules (no precondition), half rename the pool under If-Match
// (most lose with 412 and retry). Every 2xx change is in the history
// exactly once; no refused one is.
func TestEndToEndAdminLoad(t *testing.T) {
	e := startAdminEnv(t)
	start := latestVersion(t, e)
	const editors, rounds = 50, 4
	type ack struct {
		version int64
		what    string
	}
	var mu sync.Mutex
	var acks []ack
	var conflicts atomic.Int64
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: editors}}
	do := func(method, path, body string, hdr ...string) (int, http.Header, []byte) {
		req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	began := time.Now()
	var wg sync.WaitGroup
	for ed := range editors {
		wg.Go(func() {
			for r := range rounds {
				var status int
				var h http.Header
				var what string
				if ed%2 == 0 {
					what = fmt.Sprintf("load-%d-%d", ed, r)
					status, h, _ = do(http.MethodPost, "/admin/api/v1/pools/team/rules",
						`{"name":"`+what+`","match":[{"claim":"sub","op":"equals","value":"`+what+`"}],"role":"`+e.readerRole+`"}`)
				} else {
					_, gh, raw := do(http.MethodGet, "/admin/api/v1/pools/team", "")
					var p map[string]any
					if json.Unmarshal(raw, &p) != nil {
						t.Errorf("GET pool: %s", raw)
						return
					}
					what = fmt.Sprintf("Team %d-%d", ed, r)
					p["display_name"] = what
					body, _ := json.Marshal(p)
					status, h, _ = do(http.MethodPut, "/admin/api/v1/pools/team", string(body), "If-Match", gh.Get("ETag"))
					if status == http.StatusPreconditionFailed {
						conflicts.Add(1)
						continue
					}
				}
				if status/100 != 2 {
					t.Errorf("editor %d: HTTP %d", ed, status)
					continue
				}
				v, _ := strconv.ParseInt(h.Get("Fedgate-Config-Version"), 10, 64)
				mu.Lock()
				acks = append(acks, ack{v, what})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)

	newVersions := map[int64]string{}
	for _, v := range e.versions(t, 1000) {
		if v.Version > start {
			newVersions[v.Version] = v.Comment
		}
	}
	if len(newVersions) != len(acks) {
		t.Errorf("%d new versions for %d accepted changes", len(newVersions), len(acks))
	}
	seen := map[int64]bool{}
	for _, a := range acks {
		if seen[a.version] {
			t.Errorf("version %d acknowledged twice", a.version)
		}
		seen[a.version] = true
		if _, ok := newVersions[a.version]; !ok {
			t.Errorf("accepted change %q (version %d) is not in the history", a.what, a.version)
		}
	}
	// Each added rule is in the live pool exactly once.
	count := map[string]int{}
	for _, name := range e.ruleNames(t, "team") {
		count[name]++
	}
	for _, a := range acks {
		if strings.HasPrefix(a.what, "load-") && count[a.what] != 1 {
			t.Errorf("rule %s is in the pool %d times", a.what, count[a.what])
		}
	}
	t.Logf("50 editors: %d changes accepted, %d stale-ETag refusals, in %v (%.0f accepted changes/s)",
		len(acks), conflicts.Load(), elapsed.Round(time.Millisecond), float64(len(acks))/elapsed.Seconds())
}
