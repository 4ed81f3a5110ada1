package gateway

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fedgate/gateway/store"
)

// A `fedgate login` whose sign-in the IdP refuses (or whose ID token does
// not verify) hears why at its loopback listener at once, with
// error=access_denied and the public message, instead of waiting out its
// timeout; the refusal is audited once.
func TestCLILoopbackHearsRefusedSignIns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  func(h *cogHarness, authorize url.Values) string // the callback's query
		message string
	}{
		{"the IdP refuses", func(_ *cogHarness, a url.Values) string {
			return "error=access_denied&state=" + url.QueryEscape(a.Get("state"))
		}, "The identity provider did not sign you in (access_denied)."},
		{"the ID token does not verify", func(h *cogHarness, a url.Values) string {
			h.serveIDToken(h.idClaims(a.Get("nonce")), `"Sub":"carol"`)
			return "code=c1&state=" + url.QueryEscape(a.Get("state"))
		}, "not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newCogHarness(t)
			b := &cogBrowser{h: h, jar: map[string]string{}}
			start := b.get("/cli/authorize?" + url.Values{
				"pool": {"mobile"}, "provider": {"corp"}, "redirect_uri": {cliLoopback}, "state": {"state-1234567890"},
				"code_challenge": {cliChallenge}, "code_challenge_method": {"S256"}, "client_name": {"laptop"},
			}.Encode())
			to, err := url.Parse(start.header.Get("Location"))
			if start.status != http.StatusFound || err != nil || !strings.HasPrefix(to.String(), h.idp.URL()) {
				t.Fatalf("GET /cli/authorize: %d, Location %q\n%s", start.status, start.header.Get("Location"), start.body)
			}
			back := b.get("/callback?" + tc.answer(h, to.Query()))
			loc, err := url.Parse(back.header.Get("Location"))
			if back.status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), cliLoopback+"?") {
				t.Fatalf("callback: %d, Location %q; want the CLI's loopback\n%s", back.status, back.header.Get("Location"), back.body)
			}
			q := loc.Query()
			if q.Get("error") != "access_denied" || q.Get("state") != "state-1234567890" || !strings.Contains(q.Get("error_description"), tc.message) || q.Get("code") != "" {
				t.Errorf("the CLI hears %v", q)
			}
			refused := 0
			for _, e := range h.auditOf(store.AuditVend) {
				if e.Result != store.AuditOK {
					refused++
				}
			}
			if refused != 1 {
				t.Errorf("%d refusals audited, want 1", refused)
			}
		})
	}
}
