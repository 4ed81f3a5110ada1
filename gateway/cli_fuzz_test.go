package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

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
