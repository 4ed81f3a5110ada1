package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Every response, whatever produced it, carries the security headers; HSTS
// only when the public URL is https.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	for _, tc := range []struct {
		publicURL string
		hsts      bool
	}{
		{"http://127.0.0.1:8080", false},
		{"https://fedgate.example.com", true},
	} {
		h := newGWHarnessURL(t, tc.publicURL)
		reqs := []struct {
			name string
			req  *http.Request
		}{
			{"index", httptest.NewRequest(http.MethodGet, "/", nil)},
			{"healthz", httptest.NewRequest(http.MethodGet, "/healthz", nil)},
			{"readyz", httptest.NewRequest(http.MethodGet, "/readyz", nil)},
			{"discovery", httptest.NewRequest(http.MethodGet, "/.well-known/openid-configuration", nil)},
			{"jwks", httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil)},
			{"static", httptest.NewRequest(http.MethodGet, "/static/fedgate.css", nil)},
			{"login form", httptest.NewRequest(http.MethodGet, "/login/team/demo", nil)},
			{"html 404", httptest.NewRequest(http.MethodGet, "/nowhere", nil)},
			{"json 404", httptest.NewRequest(http.MethodGet, "/api/v1/nowhere", nil)},
			{"405", httptest.NewRequest(http.MethodDelete, "/api/v1/credentials", nil)},
			{"api refusal", httptest.NewRequest(http.MethodPost, "/api/v1/credentials", strings.NewReader("{}"))},
			{"form refusal", httptest.NewRequest(http.MethodPost, "/roles", strings.NewReader("csrf=x"))},
		}
		for _, r := range reqs {
			t.Run(tc.publicURL+"/"+r.name, func(t *testing.T) {
				w := h.do(r.req)
				want := map[string]string{
					"X-Content-Type-Options": "nosniff",
					"X-Frame-Options":        "DENY",
					"Referrer-Policy":        "same-origin",
				}
				for k, v := range want {
					if got := w.Header().Get(k); got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
				csp := w.Header().Get("Content-Security-Policy")
				for _, d := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
					if !strings.Contains(csp, d) {
						t.Errorf("CSP %q lacks %q", csp, d)
					}
				}
				if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
					t.Errorf("CSP allows unsafe sources: %q", csp)
				}
				hsts := w.Header().Get("Strict-Transport-Security")
				if tc.hsts && !strings.HasPrefix(hsts, "max-age=") {
					t.Errorf("https public URL: HSTS = %q", hsts)
				}
				if !tc.hsts && hsts != "" {
					t.Errorf("http loopback: HSTS must not be sent, got %q", hsts)
				}
				if id := w.Header().Get("X-Request-Id"); len(id) < 8 {
					t.Errorf("X-Request-Id = %q", id)
				}
			})
		}
	}
}

func TestRequestIDEchoedOnlyWhenSane(t *testing.T) {
	h := newGWHarness(t)
	for _, tc := range []struct {
		sent string
		echo bool
	}{
		{"abcdef12-3456", true},
		{"short", false},
		{"bad id with spaces", false},
		{"<script>alert(1)</script>", false},
		{strings.Repeat("a", 65), false},
	} {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.Header.Set("X-Request-Id", tc.sent)
		got := h.do(req).Header().Get("X-Request-Id")
		if (got == tc.sent) != tc.echo {
			t.Errorf("sent %q, got %q; want echoed=%v", tc.sent, got, tc.echo)
		}
	}
}

// Cookies are __Host- and Secure over https, plain names on http
// loopback (browsers refuse __Host- without Secure), always HttpOnly and
// SameSite, path /.
func TestCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		publicURL, prefix string
		secure            bool
	}{
		{"https://fedgate.example.com", "__Host-", true},
		{"http://127.0.0.1:8080", "", false},
		{"http://localhost:8080", "", false},
	} {
		t.Run(tc.publicURL, func(t *testing.T) {
			h := newGWHarnessURL(t, tc.publicURL)
			b := h.browser()
			flow := b.get("/login/team/demo").Result().Cookies()
			// carol gets the picker, which sets the session cookie.
			picker := b.signIn("team", "carol", gwPassCarol)
			if picker.Code != http.StatusSeeOther {
				t.Fatalf("carol sign-in: %d", picker.Code)
			}
			var seen []string
			for _, c := range append(flow, picker.Result().Cookies()...) {
				if c.MaxAge < 0 {
					continue // a clearing cookie
				}
				seen = append(seen, c.Name)
				if !strings.HasPrefix(c.Name, tc.prefix+"fedgate-") || (tc.prefix == "" && strings.HasPrefix(c.Name, "__")) {
					t.Errorf("cookie name %q, want prefix %q", c.Name, tc.prefix)
				}
				if c.Secure != tc.secure {
					t.Errorf("%s Secure = %v", c.Name, c.Secure)
				}
				if !c.HttpOnly {
					t.Errorf("%s is not HttpOnly", c.Name)
				}
				if c.SameSite != http.SameSiteLaxMode && c.SameSite != http.SameSiteStrictMode {
					t.Errorf("%s SameSite = %v", c.Name, c.SameSite)
				}
				if c.Path != "/" || c.Domain != "" {
					t.Errorf("%s Path=%q Domain=%q, want / and none", c.Name, c.Path, c.Domain)
				}
			}
			want := map[string]bool{tc.prefix + flowCookie: true, tc.prefix + sessCookie: true}
			for _, n := range seen {
				if strings.HasPrefix(n, tc.prefix+flowCookie+"-") { // one binding cookie per flow
					n = tc.prefix + flowCookie
				}
				delete(want, n)
			}
			if len(want) > 0 {
				t.Errorf("cookies never set: %v (saw %v)", want, seen)
			}
			// The plain name is ignored over https: a cookie an attacker
			// could plant from a sibling domain has no effect.
			if tc.secure {
				b2 := h.browser()
				state := b2.startLogin("team")
				b2.cookies = map[string]string{flowCookieName(state): b2.cookies["__Host-"+flowCookieName(state)]}
				w := b2.post("/login/team/demo", aliceForm(state))
				if w.Code != http.StatusBadRequest {
					t.Errorf("flow cookie without __Host- prefix accepted: %d", w.Code)
				}
			}
		})
	}
}
