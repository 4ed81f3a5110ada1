package main

// mappings.source: file end to end: the admin UI says the mappings are the
// file's and offers no edit, its "Export as YAML" gives back the file's
// mappings, and an edited file goes live on reload without a restart.

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.yaml.in/yaml/v3"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/core"
)

// withMappingsFromFile makes the file authoritative for the mappings.
func withMappingsFromFile(*env) string { return "mappings:\n  source: file\n" }

// TestEndToEndAdminMappingsFromFile: under mappings.source: file an owner
// signed in in Chromium sees, on every admin page, that the mappings are
// managed in the file, and no control that would save one (add, save,
// delete, restore); the access keys, which are not mappings, stay. The
// "Export as YAML" button downloads, with the browser's session, YAML that
// put back in the file is what is live (fedgate mappings diff: no
// difference) and that fedgate check accepts.
func TestEndToEndAdminMappingsFromFile(t *testing.T) {
	e := startEnv(t, withAdmin, withMappingsFromFile)
	shots := screenshotDir(t)
	b := peers.StartChromium(t, 1280, 1000, 3*time.Minute)

	b.Run(t, "open /admin", chromedp.Navigate(e.url+"/admin"), chromedp.WaitVisible(chromedp.CSS("a.button")),
		chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.ID("login")))
	b.SignInAtIdP(t, "carol", "nav.admin-nav")
	banner := b.Text(t, "#mappings-from-file")
	for _, want := range []string{"Mappings are managed in " + e.configPath, "edits here are disabled", "change the file and reload", "Export as YAML"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q: %q", want, banner)
		}
	}
	b.Shot(t, shots, "mappings-from-file-home")

	// No control leads to a save that would be refused.
	absent := func(page string, sels ...string) {
		t.Helper()
		for _, sel := range sels {
			n, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+quoteJS(sel)+`).length`))
			if err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s shows %s under mappings.source: file", page, sel)
			}
		}
		if b.Attr(t, "#mappings-from-file", "role") != "note" {
			t.Errorf("%s has no file banner", page)
		}
	}
	absent("home", `a[href="/admin/pools/_new"]`, `a[href="/admin/providers/_new"]`, "#read-only")
	if got := b.Attr(t, `nav.admin-nav a[href="/admin/access-keys"]`, "href"); got == "" {
		t.Errorf("an owner lost the access keys page, which holds no mappings")
	}
	b.Run(t, "open the team pool", chromedp.Navigate(e.url+"/admin/pools/team"), chromedp.WaitVisible(chromedp.CSS("fieldset")))
	absent("pool", "#add-rule", `button[type="submit"]:not(.linkish)`, `a[href$="/delete"]`)
	if disabled, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.querySelector("fieldset").disabled`)); err != nil || !disabled {
		t.Errorf("the pool form is not disabled (%v)", err)
	}
	b.Shot(t, shots, "mappings-from-file-pool")
	b.Run(t, "open a rule", chromedp.Navigate(e.url+"/admin/pools/team/rules/0"), chromedp.WaitVisible(chromedp.CSS("fieldset")))
	absent("rule", "#save-rule")
	b.Run(t, "open version 1", chromedp.Navigate(e.url+"/admin/history/1"), chromedp.WaitVisible(chromedp.CSS("nav.admin-nav")))
	absent("version", "#restore")

	b.Run(t, "back home", chromedp.Navigate(e.url+"/admin"), chromedp.WaitVisible(chromedp.ID("export-yaml")))
	exported := string(b.Download(t, "#export-yaml"))
	if !strings.Contains(exported, "providers:") || !strings.Contains(exported, "pools:") || strings.Contains(exported, e2eClientSecret) {
		t.Fatalf("exported YAML:\n%s", exported)
	}
	// As docs/operations/mappings-source.md says: paste providers and
	// pools into the file, secrets referenced from the environment.
	back := e.withMappingsOf(strings.ReplaceAll(exported, core.SecretPlaceholder, "${CORP_CLIENT_SECRET}"))
	if out, code := e.run("mappings", "diff", "--config", back); code != 0 {
		t.Errorf("fedgate mappings diff of the export put back in the file: exit %d\n%s", code, out)
	}
	if out, code := e.run("check", "--offline", "--config", back); code != 0 {
		t.Errorf("fedgate check of the export put back in the file: exit %d\n%s", code, out)
	}

	// The API refuses a save all the same.
	if r := e.adminAPI(nil, http.MethodPost, "/admin/api/v1/pools/team/rules",
		`{"name":"x","match":[{"claim":"sub","op":"equals","value":"x"}],"role":"`+e.readerRole+`"}`); r.status != http.StatusConflict || !strings.Contains(r.body, "mappings_from_file") {
		t.Errorf("an API save under mappings.source: file: HTTP %d %s", r.status, r.body)
	}
	t.Logf("screenshots in %s", shots)
}

// withMappingsOf writes, beside the test config, a copy whose providers
// and pools are those of exported (YAML with providers: and pools:) and
// returns its path.
func (e *env) withMappingsOf(exported string) string {
	e.t.Helper()
	raw, err := os.ReadFile(e.configPath)
	if err != nil {
		e.t.Fatal(err)
	}
	var cfg, m yaml.Node
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		e.t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(exported), &m); err != nil {
		e.t.Fatalf("exported YAML does not parse: %v\n%s", err, exported)
	}
	from := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content[0].Content); i += 2 {
		from[m.Content[0].Content[i].Value] = m.Content[0].Content[i+1]
	}
	root := cfg.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if v := from[root.Content[i].Value]; v != nil {
			root.Content[i+1] = v
			delete(from, root.Content[i].Value)
		}
	}
	if len(from) != 0 {
		e.t.Fatalf("the test config has no %v to replace", from)
	}
	out, err := yaml.Marshal(&cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(e.dir, "fedgate-exported.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// run runs `fedgate args...` and returns its output and exit code.
func (e *env) run(args ...string) (string, int) {
	e.t.Helper()
	out, err := e.command(args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return string(out), 0
}

// quoteJS is s as a JavaScript string literal.
func quoteJS(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\'`) + "'"
}

// TestEndToEndMappingsFileReload: under mappings.source: file the running
// binary applies an edited file on reload (SIGHUP here; server.
// reload_interval does the same), without a restart: a rule added to the
// file vends, a rule removed is refused, each change one version with its
// audit entry by "file:<path>". A broken file is refused loudly (ERROR
// log, /readyz ready with a warning, the metric) and the live version
// serves on.
func TestEndToEndMappingsFileReload(t *testing.T) {
	e := startEnv(t, withAdmin, withMappingsFromFile)
	original := e.config
	salesRule := readersRule(e.readerRole) + `
      - name: sales
        match: [{claim: groups, op: equals, value: sales}]
        role: ` + e.readerRole
	if !strings.Contains(e.config, readersRule(e.readerRole)) {
		t.Fatal("the test config has no team rules to extend")
	}
	bobStatus := func() int {
		_, r := e.signInPage("team", "bob")
		return r.status
	}
	if s := bobStatus(); s != http.StatusForbidden {
		t.Fatalf("bob before the edit: HTTP %d, want 403", s)
	}
	reload := func(what string, done func() bool) {
		t.Helper()
		if err := e.proc.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, what, done)
	}
	versionIs := func(v int64) func() bool { return func() bool { return latestVersion(t, e) == v } }

	e.config = strings.Replace(original, readersRule(e.readerRole), salesRule, 1)
	e.writeConfig()
	reload("the edited file live as version 2", versionIs(2))
	if s := bobStatus(); s != http.StatusOK {
		t.Errorf("bob after the rule was added to the file: HTTP %d, want 200", s)
	}
	if _, page := e.signInCreds("team", "bob"); !strings.Contains(page, e.readerRole) {
		t.Errorf("bob's credentials page lacks the role:\n%.2000s", page)
	}
	changes := e.audit(t, "kind=admin_change")
	if len(changes) != 1 || changes[0].Actor != "file:"+e.configPath || changes[0].Version != 2 {
		t.Errorf("audit of the applied file: %+v", changes)
	}

	// Unchanged: more reloads write nothing.
	reload("a reload of the unchanged file", func() bool { return true })
	time.Sleep(2500 * time.Millisecond) // two reload_intervals
	if v := latestVersion(t, e); v != 2 {
		t.Errorf("an unchanged file made version %d", v)
	}

	// Broken: refused loudly, version 2 serves on.
	e.config = strings.Replace(original, readersRule(e.readerRole), salesRule+"\n        bogus_key: true", 1)
	e.writeConfig()
	reload("the refusal of the broken file", func() bool { return strings.Contains(e.logs.String(), "mappings file refused") })
	if !strings.Contains(e.logs.String(), `"level":"ERROR","msg":"mappings file refused`) {
		t.Errorf("the refusal is not an ERROR:\n%s", e.logs.String())
	}
	if r := send(t, nil, http.MethodGet, e.url+"/readyz", ""); r.status != http.StatusOK || !strings.Contains(r.body, "mappings file is refused") {
		t.Errorf("/readyz with a broken file: HTTP %d %s", r.status, r.body)
	}
	if r := send(t, nil, http.MethodGet, e.url+"/metrics", ""); !strings.Contains(r.body, "fedgate_mappings_file_refused 1") {
		t.Errorf("/metrics does not show the refusal")
	}
	if v := latestVersion(t, e); v != 2 {
		t.Errorf("a broken file made version %d", v)
	}
	if s := bobStatus(); s != http.StatusOK {
		t.Errorf("bob while the file is broken: HTTP %d, want 200 (version 2 serves on)", s)
	}

	// The rule removed: refused again, without a restart.
	e.config = original
	e.writeConfig()
	reload("the file without the rule live as version 3", versionIs(3))
	if s := bobStatus(); s != http.StatusForbidden {
		t.Errorf("bob after the rule was removed from the file: HTTP %d, want 403", s)
	}
	if r := send(t, nil, http.MethodGet, e.url+"/readyz", ""); strings.Contains(r.body, "warning") {
		t.Errorf("/readyz still warns after the fix: %s", r.body)
	}
}
