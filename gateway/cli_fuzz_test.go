package gateway

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseLoopbackRedirect: whatever is accepted is plain http to the
// literal loopback address with a port, and stays so once the code and
// state are added (so the browser is never sent anywhere else).
func FuzzParseLoopbackRedirect(f *testing.F) {
	for _, seed := range []string{
		"http://127.0.0.1:8080/callback", "http://[::1]:1/", "http://127.0.0.1:80?x=1", "http://localhost:1/",
		"http://127.0.0.1:8080@evil.example/", "http://127.0.0.1:8080\\@evil.example/", "http://127.0.0.1:8080/%2F%2Fevil",
		"http://127.0.0.1:8080#x", "http://[::1%25eth0]:1/", "HTTP://127.0.0.1:1/", "http://127.0.0.1:1/\r\nX: y",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, ok := parseLoopbackRedirect(raw)
		if !ok {
			return
		}
		final, err := url.Parse(withQuery(u, url.Values{"code": {"c"}, "state": {"s"}}))
		if err != nil {
			t.Fatalf("accepted %q but the redirect does not parse: %v", raw, err)
		}
		host, port, err := net.SplitHostPort(final.Host)
		if final.Scheme != "http" || err != nil || (host != "127.0.0.1" && host != "::1") || port == "" || final.User != nil {
			t.Fatalf("accepted %q, which redirects to %q", raw, final)
		}
		if final.Query().Get("code") != "c" || final.Query().Get("state") != "s" {
			t.Fatalf("accepted %q, but the code does not survive: %q", raw, final)
		}
	})
}

// FuzzCLIToken sends arbitrary bodies to POST /cli/token: never a 5xx,
// always an OAuth error in JSON, never a session.
func FuzzCLIToken(f *testing.F) {
	for _, seed := range [][2]string{
		{"application/x-www-form-urlencoded", "grant_type=authorization_code&code=abc&code_verifier=" + cliVerifier + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2F"},
		{"application/x-www-form-urlencoded", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=x"},
		{"application/json", `{"grant_type":"authorization_code","code":1e309}`},
		{"application/json", `{"grant_type":["a"],"device_code":{}}`},
		{"application/json", `{"grant_type":"urn:ietf:params:oauth:grant-type:device_code","device_code":"` + strings.Repeat("a", 600) + `"}`},
		{"text/plain", "%zz"},
		{"application/x-www-form-urlencoded", "grant_type=%ff%fe&code=%00"},
	} {
		f.Add(seed[0], seed[1])
	}
	h := newGWHarness(f)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, "/cli/token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		w := h.do(req)
		if w.Code >= 500 || w.Code == http.StatusOK {
			t.Fatalf("status %d for %q %q: %s", w.Code, contentType, body, w.Body)
		}
		var e map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e["error"] == "" || e["error_description"] == "" {
			t.Fatalf("answer %q is not an OAuth error", w.Body)
		}
	})
}
