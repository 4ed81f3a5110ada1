package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

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
	// From here on the test drives the page through script only: after the
	// credentials page's first script-driven change, chromedp's DOM queries
	// (WaitVisible, Click, Text) stop returning in headless Chromium.
	scriptClick(t, b, "#tab-fish")
	if !waitScript(b, `!document.getElementById("fmt-fish").hidden && document.getElementById("fmt-bash").hidden`, 5*time.Second) {
		t.Error("picking the fish tab does not show fish alone")
	}
	if !waitScript(b, `/ left$/.test(document.querySelector("[data-countdown-for]").textContent)`, 5*time.Second) {
		t.Error("the expiry does not count down")
	}
	copyExportLines(t, b)
	// Back to the portal, and the second role: no new sign-in.
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`history.back(), true`)); err != nil {
		t.Fatalf("Back: %v", err)
	}
	waitForPage(t, b, "the portal after Back", `location.pathname === "/portal" && !!document.getElementById("creds-team-0")`)
	if text := mainText(b); strings.Contains(text, "sign_in_expired") || !strings.Contains(text, "Choose a role") {
		t.Fatalf("Back after picking a role:\n%s", text)
	}
	scriptClick(t, b, "#creds-team-0")
	waitForPage(t, b, "the admin role's credentials", `!!document.getElementById("copy-bash") && document.querySelector("main").innerText.includes(`+"`"+e.adminRole+"`"+`)`)
	if got := strings.Count(e.logs.String(), `"msg":"credentials vended"`) - before; got != 2 {
		t.Errorf("%d vends, want 2 (reader, then admin after Back) from one sign-in", got)
	}
	goTo(t, b, e.url+"/portal", "#sign-out")
	scriptClick(t, b, "#sign-out")
	waitForPage(t, b, "the start page after sign-out", `location.pathname === "/" && document.querySelector("main").innerText.includes("You are signed out")`)
	pc.page("signed-out")
}

func refusalAsBob(t *testing.T, e *env, b *peers.Chromium, pc *pageCheck) {
	goTo(t, b, e.url+"/login/team/demo", "#username")
	signInForm(t, b, "bob")
	waitForPage(t, b, "bob's refusal", `!!document.querySelector("p.notice.error")`)
	if text := mainText(b); !strings.Contains(text, "no_matching_rule") {
		t.Errorf("bob's refusal:\n%s", text)
	}
	pc.page("refusal")
}

func adminPages(t *testing.T, e *env, b *peers.Chromium, pc *pageCheck) {
	goTo(t, b, e.url+"/admin", "a.button")
	pc.page("admin-sign-in")
	scriptClick(t, b, "a.button")
	waitForPage(t, b, "the admin sign-in form", `!!document.getElementById("username")`)
	signInForm(t, b, "carol")
	waitForPage(t, b, "the admin home", `!!document.querySelector("nav.admin-nav")`)
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
		goTo(t, b, e.url+p.path, p.wait)
		pc.page(p.name)
	}
	claims := `{"sub":"dave","email":"dave@example.com","groups":["engineering"]}`
	goTo(t, b, e.url+"/admin/simulate?pool=team", "#simulate")
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.getElementById("claims").value = %q, true`, claims))); err != nil {
		t.Fatal(err)
	}
	scriptClick(t, b, "#simulate")
	waitForPage(t, b, "the simulation result", `document.readyState === "complete" && !!document.getElementById("result") && document.documentElement.clientWidth > 0`)
	pc.page("admin-simulate-result")
}

// goTo loads url in the page and waits until it shows sel. The old
// document is marked first, so that going to the URL already shown waits
// for the new document rather than taking the old one for it.
func goTo(t *testing.T, b *peers.Chromium, url, sel string) {
	t.Helper()
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](fmt.Sprintf(`window.fedgateLeaving = true, location.href = %q, true`, url))); err != nil {
		t.Fatalf("going to %s: %v", url, err)
	}
	waitForPage(t, b, url, fmt.Sprintf(`!window.fedgateLeaving && location.href === %q && document.readyState === "complete" && !!document.querySelector(%q)`, url, sel))
}

// scriptClick clicks the element sel from script, as a user gesture.
func scriptClick(t *testing.T, b *peers.Chromium, sel string) {
	t.Helper()
	userClick := func(p *cdpruntime.EvaluateParams) { p.UserGesture = new(true) }
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](fmt.Sprintf(`setTimeout(() => document.querySelector(%q).click(), 0), true`, sel), userClick)); err != nil {
		t.Fatalf("clicking %s: %v", sel, err)
	}
}

// signInForm fills the demo provider's form as user and sends it.
func signInForm(t *testing.T, b *peers.Chromium, user string) {
	t.Helper()
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.getElementById("username").value = %q, document.getElementById("password").value = %q, true`, user, user+"-demo"))); err != nil {
		t.Fatal(err)
	}
	scriptClick(t, b, "form button[type=submit]")
}

// waitFor waits until expr holds, or stops the test naming what.
func waitForPage(t *testing.T, b *peers.Chromium, what, expr string) {
	t.Helper()
	if !waitScript(b, expr, 30*time.Second) {
		t.Fatalf("%s did not show:\n%.2000s", what, mainText(b))
	}
}

// mainText is what the page's main element says.
func mainText(b *peers.Chromium) string {
	s, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.querySelector("main") || document.body).innerText`))
	return s
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

// copyExportLines presses the bash format's Copy button: the button must
// say copied, and the clipboard must hold the export lines when the
// browser lets the page read it back.
func copyExportLines(t *testing.T, b *peers.Chromium) {
	t.Helper()
	want, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.getElementById("text-bash").textContent`))
	scriptClick(t, b, "#copy-bash")
	if !waitScript(b, `document.getElementById("copy-bash").hasAttribute("data-state")`, 15*time.Second) {
		t.Fatal("the copy button did not answer the click")
	}
	if state := b.Attr(t, "#copy-bash", "data-state"); state != "copied" {
		t.Fatalf("the copy button says %q, want copied", state)
	}
	// Headless Chromium may refuse to read the clipboard back (it needs
	// focus and a permission); the copied-state is the evidence then.
	clip, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`Promise.race([navigator.clipboard.readText(), new Promise(r => setTimeout(() => r("(unreadable)"), 3000))]).catch(e => "(unreadable: " + e + ")")`, chromedp.EvalAwaitPromise))
	switch {
	case err != nil:
		t.Fatalf("reading the clipboard: %v", err)
	case strings.HasPrefix(clip, "(unreadable"):
		t.Logf("the copied-state is the evidence: the clipboard could not be read back %s", clip)
	case strings.TrimSpace(clip) != strings.TrimSpace(want) || !strings.Contains(clip, "export AWS_SESSION_TOKEN="):
		t.Errorf("clipboard holds %q, want the export lines %q", clip, want)
	}
}
