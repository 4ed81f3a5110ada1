package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fedgate/gateway/wire"
)

// FuzzAPICredentialsBody sends arbitrary Authorization headers and bodies
// to POST /api/v1/credentials: never a 5xx (a panic would be one), always
// a JSON answer, never the presented token echoed back.
func FuzzAPICredentialsBody(f *testing.F) {
	for _, seed := range [][2]string{
		{"Bearer " + gwTokenAlice, `{"pool":"team"}`},
		{"Bearer " + gwTokenCarol, `{"pool":"team","role_arn":"` + gwAdmin + `","duration_seconds":900}`},
		{"Bearer " + gwTokenBob, `{"pool":"` + gwTeamID + `","provider":"app"}`},
		{"Bearer " + gwToken(gwAppIss, "multi"), `{"pool":"team"}`},
		{"Bearer " + gwTokenForeign, `{"pool":"solo","provider":"demo"}`},
		{"Bearer " + gwTokenAlice, `{"pool":"team","duration_seconds":36028797018965768}`},
		{"bearer x.eyJpc3MiOjF9.y", `{"pool":"team"}{}`},
		{"Basic abc", `[]`},
		{"", ``},
		{"Bearer " + gwTokenAlice, `{"pool":"\u00ff\ud800` + strings.Repeat("é", 50) + `"}`},
		{"Bearer " + gwTokenAlice, `{"pool":"team","duration_seconds":-1e309}`},
	} {
		f.Add(seed[0], seed[1])
	}
	h := newGWHarness(f)
	f.Fuzz(func(t *testing.T, auth, body string) {
		h.sts.Reset()
		h.logs.Reset()
		req := httptest.NewRequest(http.MethodPost, "/api/v1/credentials", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		w := h.do(req)
		if w.Code >= 500 {
			t.Fatalf("status %d for auth %q body %q: %s\n%s", w.Code, auth, body, w.Body, h.logs)
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("not JSON: %q", w.Body)
		}
		if w.Code != http.StatusOK {
			var e wire.APIError
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("refusal %q is not an API error", w.Body)
			}
		}
		_, token, _ := strings.Cut(auth, " ")
		token = strings.TrimSpace(token)
		if len(token) >= 24 && !strings.Contains(body, token) && strings.Contains(w.Body.String(), token) {
			t.Fatalf("the answer echoes the bearer token: %s", w.Body)
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
