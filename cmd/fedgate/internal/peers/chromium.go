package peers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// Chromium is headless Chromium with a fresh profile, driven by chromedp
// as a person uses a browser.
type Chromium struct {
	Ctx context.Context // for chromedp calls of the test's own
}

// StartChromium opens a window of width x height; everything done in it
// must be done within. It stops when the test ends.
func StartChromium(t testing.TB, width, height int, within time.Duration) *Chromium {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		Required(t, "chromium (Debian package chromium) for the browser flows")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(width, height))
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancel := context.WithTimeout(ctx, within)
	t.Cleanup(func() { cancel(); cancelCtx(); cancelAlloc() })
	return &Chromium{Ctx: ctx}
}

// Run does one step's actions and stops the test, showing the page, if
// one fails.
func (b *Chromium) Run(t testing.TB, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		t.Fatalf("%s: %v\npage:\n%.3000s", step, err, b.page())
	}
}

// Text is the text of the element sel (a CSS selector) shows.
func (b *Chromium) Text(t testing.TB, sel string) string {
	t.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

// Attr is the value of attribute name of the element sel ("" when unset).
func (b *Chromium) Attr(t testing.TB, sel, name string) string {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {getAttribute: () => ""}).getAttribute(%q) || ""`, sel, name)))
	if err != nil {
		t.Fatalf("reading %s of %s: %v", name, sel, err)
	}
	return v
}

// Shot saves a screenshot of the whole page as dir/name.png.
func (b *Chromium) Shot(t testing.TB, dir, name string) {
	t.Helper()
	// A full-page capture now and then never returns in headless
	// Chromium; a bounded attempt, tried again, keeps that from eating the
	// test's whole time.
	var png []byte
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG (below 100 is JPEG)
		cancel()
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// SignInAtIdP walks the pages of the OIDC peer (login, consent) as far as
// it needs, until the relying party shows an element matching done.
func (b *Chromium) SignInAtIdP(t testing.TB, user, done string) {
	t.Helper()
	probe := fmt.Sprintf(`document.querySelector(%q) ? "done" : document.querySelector("#login") ? "login" : document.querySelector("#approve") ? "consent" : ""`, done)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		state, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](probe))
		if err != nil {
			state = "" // navigation in progress
		}
		switch state {
		case "done":
			return
		case "login":
			if err := chromedp.Do(b.Ctx, chromedp.SendKeys(chromedp.ID("login"), user), chromedp.SendKeys(chromedp.ID("password"), LoginPassword),
				chromedp.Click(chromedp.ID("submit"))); err != nil {
				t.Fatalf("IdP login page: %v", err)
			}
		case "consent":
			if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.ID("approve"))); err != nil {
				t.Fatalf("IdP consent page: %v", err)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("never reached %s after the IdP; page:\n%.3000s", done, b.page())
}

// Download clicks sel (a link or button that downloads a file) and returns
// the bytes the browser saved, as a person's click would save them: with
// the page's cookies, under its content security policy.
func (b *Chromium) Download(t testing.TB, sel string) []byte {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	events := true
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events,
		})
		return err
	}), chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("download %s: %v", sel, err)
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download %s: %v", sel, err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCanceled:
			t.Fatalf("download %s: the browser cancelled it", sel)
		case browser.DownloadProgressStateCompleted:
			raw, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
	}
	t.Fatalf("download %s: never completed", sel)
	return nil
}

// page is the HTML of the page's body, for failure messages.
func (b *Chromium) page() string {
	html, _ := chromedp.Run(b.Ctx, chromedp.OuterHTML(chromedp.CSS("body")))
	return html
}
