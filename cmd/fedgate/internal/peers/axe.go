package peers

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdpfetch "github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// AxePath is where the page loads axe-core from: a path on the page's own
// origin, so that the page's CSP (script-src 'self', no inline script)
// lets it run. The browser answers it itself (Fetch interception); it
// never reaches the server under test.
const AxePath = "/__test__/axe.min.js"

// ServeAxe makes the browser answer AxePath, on every origin, with npm
// axe-core's axe.min.js (testdata/peers).
func (b *Chromium) ServeAxe(t testing.TB) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(peerDir(t), "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		Required(t, "npm package axe-core (testdata/peers/setup.sh): "+err.Error())
	}
	paused := chromedp.Events(b.Ctx, cdpfetch.RequestPaused)
	var target *chromedp.Target
	b.Run(t, "intercept "+AxePath, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		target = tg
		_, err := cdp.Call(ctx, tg, cdpfetch.Enable, cdpfetch.EnableParams{Patterns: []*cdpfetch.RequestPattern{{URLPattern: "*" + AxePath}}})
		return err
	}))
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, _ = cdp.Call(b.Ctx, target, cdpfetch.FulfillRequest, cdpfetch.FulfillRequestParams{
				RequestID: ev.RequestID, ResponseCode: 200, Body: src,
				ResponseHeaders: []*cdpfetch.HeaderEntry{{Name: "Content-Type", Value: "text/javascript"}},
			})
		}
	}()
}

// AxeViolation is one rule axe-core found broken, with the elements.
type AxeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// Axe runs axe-core on the page and returns its serious and critical
// violations. The script is added as <script src=AxePath>, which the
// page's CSP allows because it is on the page's origin.
func (b *Chromium) Axe(t testing.TB) []AxeViolation {
	t.Helper()
	const run = `new Promise((resolve, reject) => {
  const go = () => axe.run(document, {resultTypes: ["violations"]}).then(r => resolve(JSON.stringify(
    r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
      ID: v.id, Impact: v.impact, Help: v.help,
      Nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))}))))).catch(reject);
  if (window.axe) { go(); return; }
  const s = document.createElement("script");
  s.src = "` + AxePath + `";
  s.onload = go;
  s.onerror = () => reject(new Error("axe-core did not load from the page's origin"));
  document.head.appendChild(s);
})`
	out, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core: %v", err)
	}
	var vs []AxeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("axe-core answer: %v", err)
	}
	return vs
}

// Overflow is how many CSS pixels the page is wider than the window
// (0 when nothing scrolls sideways).
func (b *Chromium) Overflow(t testing.TB) int {
	t.Helper()
	n, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
	if err != nil {
		t.Fatalf("measuring the page: %v", err)
	}
	return n
}

// WidestElements names the elements that reach past the window's right
// edge, for a failure message.
func (b *Chromium) WidestElements(t testing.TB) string {
	t.Helper()
	s, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`(() => {
  const w = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 1) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") + " right=" + Math.round(r.right));
  }
  return out.slice(0, 12).join("\n");
})()`))
	return strings.TrimSpace(s)
}
