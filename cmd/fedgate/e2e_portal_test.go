package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"fedgate/cmd/fedgate/internal/peers"
)

// The demo users of configs/demo.yaml (password: NAME-demo).
const portalDemoProvider = `providers:
  - id: demo
    type: static
    display_name: Demo users
    users:
      - username: alice
        password_hash: $2a$12$x9WK8SK7Scy/RCOAuPlIGu4JUzIj1YzvHro4z45dYvhqq9Bn7L5fC
        claims: {email: alice@example.com, department: eng, groups: [engineering, s3-readers]}
      - username: bob
        password_hash: $2a$12$zdlGV8UoxyQgB/.8Qh.X8OcofgaKLgVrBQWDO0EVhp6xNDg2lIM9.
        claims: {email: bob@example.com, department: sales, groups: [sales]}
      - username: carol
        password_hash: $2a$12$3n4.cbsbCRg9s9bwz3scwOUfgcFS.UCgcu0NiPqxeRWuH8JPrD6PO
        claims: {email: carol@example.com, department: eng, groups: [engineering, admins]}
`

// startPortalEnv runs fedgate with the demo users, two pools that give
// carol two roles in one account and one more in a second pool, and the
// admin UI (carol owns it, alice may look).
func startPortalEnv(t *testing.T) *env {
	e := newEnv(t, teamAccountTrust)
	e.serve(portalDemoProvider + fmt.Sprintf(`pools:
  - id: %s
    name: team
    display_name: Team account
    providers: [demo]
    resolution: all_matches
    principal_tags: {department: department}
    account_aliases: {"123456789012": "Team production"}
    rules:
      - name: platform admins
        match: [{claim: groups, op: equals, value: admins}]
        role: %s
      - name: engineers read S3
        match: [{claim: groups, op: equals, value: engineering}]
        role: %s
        duration_seconds: 7200
  - id: %s
    name: sandbox
    display_name: Sandbox
    providers: [demo]
    rules:
      - name: everyone at example.com
        match: [{claim: email, op: ends_with, value: "@example.com"}]
        role: %s
admin:
  providers: [demo]
  rules:
    - {name: owners, match: [{claim: groups, op: equals, value: admins}], role: owner}
    - {name: viewers, match: [{claim: groups, op: equals, value: engineering}], role: viewer}
`, poolGatewayID, e.adminRole, e.readerRole, poolPickerID, e.readerRole))
	return e
}

// pageCheck is what every page owes, at every width: no serious or
// critical axe-core violation, nothing wider than the window, and a
// screenshot in the test's output.
type pageCheck struct {
	t     *testing.T
	b     *peers.Chromium
	dir   string
	width string
	n     int
}

func (pc *pageCheck) page(name string) {
	pc.t.Helper()
	start := time.Now()
	defer func() { pc.t.Logf("%s %s checked in %v", pc.width, name, time.Since(start).Round(time.Millisecond)) }()
	pc.n++
	pc.b.Shot(pc.t, pc.dir, fmt.Sprintf("%s-%02d-%s", pc.width, pc.n, name))
	for _, v := range pc.b.Axe(pc.t) {
		pc.t.Errorf("%s at %s: axe %s (%s): %s\n  %s", name, pc.width, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
	if over := pc.b.Overflow(pc.t); over > 0 {
		pc.t.Errorf("%s at %s scrolls sideways by %d px; too wide:\n%s", name, pc.width, over, pc.b.WidestElements(pc.t))
	}
}

// TestEndToEndPortalBrowser is the access portal as carol uses it in real
// Chromium, with the page's CSP enforced: one sign-in, both roles of the
// team pool (Back between them), a copy button, sign-out; bob's refusal;
// and the admin pages. Every page passes axe-core and fits a 390 px phone.
func TestEndToEndPortalBrowser(t *testing.T) {
	e := startPortalEnv(t)
	dir := screenshotDir(t)
	t.Logf("screenshots in %s", dir)
	for _, size := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			b := peers.StartChromium(t, size.width, size.height, 6*time.Minute)
			b.Run(t, "viewport", chromedp.EmulateViewport(int64(size.width), int64(size.height)))
			b.ServeAxe(t)
			if _, err := chromedp.CallBrowser(b.Ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: "clipboard-read"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: e.url,
			}); err != nil {
				t.Fatalf("clipboard permission: %v", err)
			}
			pc := &pageCheck{t: t, b: b, dir: dir, width: size.name}
			portalAsCarol(t, e, b, pc)
			refusalAsBob(t, e, b, pc)
			adminPages(t, e, b, pc)
		})
	}
}

func portalAsCarol(t *testing.T, e *env, b *peers.Chromium, pc *pageCheck) {
	before := strings.Count(e.logs.String(), `"msg":"credentials vended"`)
	b.Run(t, "start page", chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(chromedp.CSS("a.button")))
	if text := b.Text(t, "main"); !strings.Contains(text, "credentials for 1 h to 2 h, depending on the role") {
		t.Errorf("start page durations:\n%s", text)
	}
	pc.page("start")
	b.Run(t, "sign-in form", chromedp.Navigate(e.url+"/login/team/demo"), chromedp.WaitVisible(chromedp.ID("username")))
	pc.page("sign-in")
	b.Run(t, "sign in as carol", chromedp.SendKeys(chromedp.ID("username"), "carol"), chromedp.SendKeys(chromedp.ID("password"), "carol-demo"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.ID("signed-in-as")))
	if text := b.Text(t, "main"); !strings.Contains(text, "Choose a role") || !strings.Contains(text, "carol@example.com") ||
		!strings.Contains(text, "Team production") || !strings.Contains(text, "up to 2 h") {
		t.Errorf("the picker view of the portal:\n%s", text)
	}
	pc.page("portal-picker")
	b.Run(t, "all roles", chromedp.Click(chromedp.ID("all-roles")), chromedp.WaitVisible(chromedp.ID("creds-sandbox-0")))
	b.Run(t, "filter as one types", chromedp.SendKeys(chromedp.ID("portal-filter"), "sandbox"))
	if n := b.Text(t, "#filter-count"); n != "1 of 3 roles" {
		t.Errorf("filter count %q, want 1 of 3 roles", n)
	}
	b.Run(t, "open a CLI profile", chromedp.Click(chromedp.CSS("li.role-row:not([hidden]) details.snippet summary")))
	pc.page("portal-filtered")

	// The reader role, then Back, then the admin role: one sign-in.
	b.Run(t, "reader credentials", chromedp.Navigate(e.url+"/portal?pool=team"), chromedp.WaitVisible(chromedp.ID("creds-team-1")),
		chromedp.Click(chromedp.ID("creds-team-1")), chromedp.WaitVisible(chromedp.ID("copy-bash")))
	pc.page("credentials")
	e.assertLeastPrivilege(credsFromPage(t, b.Text(t, "#text-bash")))
	// A click as the person makes it (a user gesture, which the Clipboard
	// API requires), sent as script: chromedp's mouse click on this button
	// does not return in headless Chromium.
	userClick := func(p *cdpruntime.EvaluateParams) { p.UserGesture = new(true) }
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.getElementById("copy-bash").click(), true`, userClick)); err != nil {
		t.Fatalf("copy: %v", err)
	}
	if !waitScript(b, `document.getElementById("copy-bash").hasAttribute("data-state")`, 10*time.Second) {
		t.Fatal("the copy button did not answer the click")
	}
	if state := b.Attr(t, "#copy-bash", "data-state"); state != "copied" {
		t.Fatalf("the copy button says %q, want copied", state)
	}
	// The clipboard itself, when the browser lets the page read it back
	// (headless Chromium needs focus and the permission granted above).
	clip, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`Promise.race([navigator.clipboard.readText(), new Promise(r => setTimeout(() => r("(unreadable)"), 3000))]).catch(e => "(unreadable: " + e + ")")`, chromedp.EvalAwaitPromise))
	switch want := b.Text(t, "#text-bash"); {
	case err != nil:
		t.Fatalf("reading the clipboard: %v", err)
	case strings.HasPrefix(clip, "(unreadable"):
		t.Logf("the copied-state is the evidence: the clipboard could not be read back %s", clip)
	case strings.TrimSpace(clip) != strings.TrimSpace(want) || !strings.Contains(clip, "export AWS_SESSION_TOKEN="):
		t.Errorf("clipboard holds %q, want the export lines %q", clip, want)
	}
	b.Run(t, "fish tab", chromedp.Click(chromedp.ID("tab-fish")), chromedp.WaitVisible(chromedp.ID("text-fish")))
	if hidden, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.getElementById("fmt-bash").hidden`)); !hidden {
		t.Error("the bash panel still shows after picking fish")
	}
	if left := b.Text(t, "[data-countdown-for]"); !strings.HasSuffix(left, " left") {
		t.Errorf("expiry does not count down: %q", left)
	}
	backToTheSecondRole(t, e, b)
	if got := strings.Count(e.logs.String(), `"msg":"credentials vended"`) - before; got != 3 {
		t.Errorf("%d vends, want 3 (reader, reader again, admin after Back) from one sign-in", got)
	}
	b.Run(t, "back to the portal", chromedp.Navigate(e.url+"/portal"), chromedp.WaitVisible(chromedp.ID("sign-out")),
		chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.CSS("p.notice.info")))
	if text := b.Text(t, "main"); !strings.Contains(text, "You are signed out") {
		t.Errorf("after sign-out:\n%s", text)
	}
	pc.page("signed-out")
}

func refusalAsBob(t *testing.T, e *env, b *peers.Chromium, pc *pageCheck) {
	b.Run(t, "sign in as bob", chromedp.Navigate(e.url+"/login/team/demo"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "bob"), chromedp.SendKeys(chromedp.ID("password"), "bob-demo"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("p.notice.error")))
	if text := b.Text(t, "main"); !strings.Contains(text, "no_matching_rule") {
		t.Errorf("bob's refusal:\n%s", text)
	}
	pc.page("refusal")
}

func adminPages(t *testing.T, e *env, b *peers.Chromium, pc *pageCheck) {
	b.Run(t, "admin sign-in", chromedp.Navigate(e.url+"/admin"), chromedp.WaitVisible(chromedp.CSS("a.button")))
	pc.page("admin-sign-in")
	b.Run(t, "admin as carol", chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "carol"), chromedp.SendKeys(chromedp.ID("password"), "carol-demo"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("nav.admin-nav")))
	for _, p := range []struct{ name, path, wait string }{
		{"admin-home", "/admin", "nav.admin-nav"},
		{"admin-pool", "/admin/pools/team", "#add-rule"},
		{"admin-rule", "/admin/pools/team/rules/0", "#save-rule"},
		{"admin-new-rule", "/admin/pools/team/rules/_new", "#save-rule"},
		{"admin-delete-rule", "/admin/pools/team/rules/1/delete", "#confirm-delete"},
		{"admin-provider", "/admin/providers/demo", "nav.admin-nav"},
		{"admin-simulate", "/admin/simulate?pool=team", "#simulate"},
		{"admin-history", "/admin/history", "table.grid"},
		{"admin-version", "/admin/history/1", "nav.admin-nav"},
		{"admin-audit", "/admin/audit", "table.audit"},
	} {
		b.Run(t, p.name, chromedp.Navigate(e.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait)))
		pc.page(p.name)
	}
	claims := `{"sub":"dave","email":"dave@example.com","groups":["engineering"]}`
	b.Run(t, "simulate", chromedp.Navigate(e.url+"/admin/simulate?pool=team"), chromedp.WaitVisible(chromedp.ID("simulate")),
		chromedp.SetValue(chromedp.ID("claims"), claims), chromedp.Click(chromedp.ID("simulate")), chromedp.WaitVisible(chromedp.ID("result")))
	pc.page("admin-simulate-result")
}

// waitScript evaluates expr until it is true, through page loads (whose
// script contexts come and go), for at most d.
func waitScript(b *peers.Chromium, expr string, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if ok, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return true
		}
	}
	return false
}

// backToTheSecondRole picks the reader role, goes Back and picks the admin
// role, in a tab of its own (the same browser and sign-in): chromedp's DOM
// tracking does not follow a page restored from history, so the tab is
// read through script after Back and closed afterwards.
func backToTheSecondRole(t *testing.T, e *env, b *peers.Chromium) {
	ctx, cancel := chromedp.NewContext(b.Ctx)
	defer cancel()
	tab := &peers.Chromium{Ctx: ctx}
	tab.Run(t, "reader credentials in a new tab", chromedp.Navigate(e.url+"/portal?pool=team"), chromedp.WaitVisible(chromedp.ID("creds-team-1")),
		chromedp.Click(chromedp.ID("creds-team-1")), chromedp.WaitVisible(chromedp.ID("copy-bash")))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`history.back(), true`)); err != nil {
		t.Fatalf("Back: %v", err)
	}
	if !waitScript(tab, `location.pathname === "/portal" && !!document.getElementById("creds-team-0")`, 20*time.Second) {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		t.Fatalf("the portal after Back did not show:\n%s", page)
	}
	if text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`)); strings.Contains(text, "sign_in_expired") || !strings.Contains(text, "Choose a role") {
		t.Fatalf("Back after picking a role:\n%s", text)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("creds-team-0").click(), true`)); err != nil {
		t.Fatalf("admin credentials: %v", err)
	}
	if !waitScript(tab, `!!document.getElementById("copy-bash") && document.querySelector("main").innerText.includes(`+"`"+e.adminRole+"`"+`)`, 20*time.Second) {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		t.Fatalf("the admin role's credentials after Back did not show:\n%s", page)
	}
}
