package gateway

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"fedgate/gateway/cli"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

// The PKCE verifier and its S256 challenge of RFC 7636 appendix B.
const (
	cliVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	cliChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// grantDeviceCode is the device grant's grant_type (RFC 8628 §3.4).
const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

var (
	cliLoopback       = "http://127.0.0.1:50123/callback"
	cliUserCodeOnPage = regexp.MustCompile(`class="user-code-display"[^>]*>([A-Z]{4}-[A-Z]{4})<`)
)

// cliAuthorizeURL is what fedgate login opens for the team pool.
func cliAuthorizeURL(pool, redirect string) string {
	return "/cli/authorize?" + url.Values{
		"pool": {pool}, "provider": {"demo"}, "redirect_uri": {redirect}, "state": {"state-1234567890"},
		"code_challenge": {cliChallenge}, "code_challenge_method": {"S256"}, "client_name": {"laptop <test>"},
	}.Encode()
}

// cliLogin runs the loopback sign-in of user in the browser and returns
// the redirect fedgate sends back to the CLI.
func (b *gwBrowser) cliLogin(pool, user, pass string) *url.URL {
	b.h.t.Helper()
	w := b.get(cliAuthorizeURL(pool, cliLoopback))
	if w.Code != http.StatusOK {
		b.h.t.Fatalf("GET /cli/authorize: %d %s", w.Code, w.Body)
	}
	state := gwFind(b.h.t, gwStatePattern, w.Body.String())
	w = b.post("/login/"+pool+"/demo", url.Values{"state": {state}, "username": {user}, "password": {pass}})
	return cliReturn(b.h.t, w)
}

// cliReturn reads where a posted sign-in form sends the browser back to
// the CLI: not a redirect, which the posting page's CSP form-action 'self'
// would stop short of 127.0.0.1, but a page that navigates there by GET
// (the Refresh header, and a link).
func cliReturn(t testing.TB, w *httptest.ResponseRecorder) *url.URL {
	t.Helper()
	refresh := w.Header().Get("Refresh")
	if w.Code != http.StatusOK || w.Header().Get("Location") != "" || !strings.HasPrefix(refresh, "0; url=") {
		t.Fatalf("sign-in: HTTP %d, Location %q, Refresh %q; want a page that navigates to the loopback\n%s", w.Code, w.Header().Get("Location"), refresh, w.Body)
	}
	to := strings.TrimPrefix(refresh, "0; url=")
	if !strings.Contains(html.UnescapeString(w.Body.String()), `id="return-to-cli" class="button" href="`+to+`"`) {
		t.Errorf("the page has no link to %s:\n%s", to, w.Body)
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "form-action 'self'") || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("CSP %q, Cache-Control %q: the page keeps the usual policy and is not stored", w.Header().Get("Content-Security-Policy"), w.Header().Get("Cache-Control"))
	}
	loc, err := url.Parse(to)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// cliForm posts a form to the CLI API.
func (h *gwHarness) cliForm(path string, form url.Values) (*httptest.ResponseRecorder, map[string]any) {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.decoded(req)
}

// cliCall sends a JSON request with a CLI session.
func (h *gwHarness) cliCall(method, path, token, body string) (*httptest.ResponseRecorder, map[string]any) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return h.decoded(req)
}

func (h *gwHarness) decoded(req *http.Request) (*httptest.ResponseRecorder, map[string]any) {
	w := h.do(req)
	out := map[string]any{}
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			h.t.Fatalf("%s %s answered non-JSON (HTTP %d): %s", req.Method, req.URL.Path, w.Code, w.Body)
		}
	}
	return w, out
}

// cliSession signs alice in through the loopback flow and returns her token.
func (h *gwHarness) cliSession(user, pass string) string {
	h.t.Helper()
	loc := h.browser().cliLogin("team", user, pass)
	w, body := h.cliForm("/cli/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"code_verifier": {cliVerifier}, "redirect_uri": {cliLoopback}})
	if w.Code != http.StatusOK {
		h.t.Fatalf("token: %d %v", w.Code, body)
	}
	return body["access_token"].(string)
}

func TestCLILoopbackLogin(t *testing.T) {
	h := newGWHarness(t)
	loc := h.browser().cliLogin("team", "alice", gwPassAlice)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != cliLoopback {
		t.Fatalf("redirected to %s, want the loopback %s", got, cliLoopback)
	}
	if loc.Query().Get("state") != "state-1234567890" || len(loc.Query().Get("code")) != 64 {
		t.Fatalf("loopback redirect query = %v", loc.Query())
	}
	w, tok := h.cliForm("/cli/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"code_verifier": {cliVerifier}, "redirect_uri": {cliLoopback}})
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("token: %d %v (Cache-Control %q)", w.Code, tok, w.Header().Get("Cache-Control"))
	}
	token, _ := tok["access_token"].(string)
	if !strings.HasPrefix(token, "fgcli_") || tok["user"] != "alice@example.com" || tok["pool"] != gwTeamID || tok["expires_in"].(float64) != 12*3600 {
		t.Fatalf("token answer = %v", tok)
	}
	if strings.Contains(h.logs.String(), token) || strings.Contains(h.logs.String(), loc.Query().Get("code")) {
		t.Error("a CLI session token or code reached the log")
	}

	w, creds := h.cliCall(http.MethodPost, "/cli/credentials", token, `{"pool":"team","role_arn":"`+gwReader+`","duration_seconds":900}`)
	if w.Code != http.StatusOK || creds["role_arn"] != gwReader || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("credentials: %d %v", w.Code, creds)
	}
	if calls := h.sts.WebIdentityCalls(); len(calls) != 1 || calls[0].Duration != 15*time.Minute {
		t.Fatalf("STS calls = %+v, want one of 15 minutes", calls)
	}
	// Roles of every pool that accepts the provider she signed in with.
	w, roles := h.cliCall(http.MethodGet, "/cli/roles", token, "")
	got, _ := json.Marshal(roles["roles"])
	if w.Code != http.StatusOK || !strings.Contains(string(got), gwReader) || !strings.Contains(string(got), gwSolo) || strings.Contains(string(got), gwAdmin) {
		t.Fatalf("roles: %d %s", w.Code, got)
	}
	w, sessions := h.cliCall(http.MethodGet, "/cli/sessions", token, "")
	list, _ := sessions["sessions"].([]any)
	if w.Code != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["current"] != true || list[0].(map[string]any)["client"] != "laptop test" {
		t.Fatalf("sessions: %d %v", w.Code, sessions)
	}
	// The vend is counted under the cli surface.
	metrics := h.do(httptest.NewRequest(http.MethodGet, "/metrics", nil)).Body.String()
	if !strings.Contains(metrics, `fedgate_vends_total{result="ok",surface="cli"} 1`) {
		t.Errorf("metrics lack the CLI vend:\n%s", metrics)
	}
}

func TestCLIAuthorizeRefusesNonLoopbackRedirects(t *testing.T) {
	h := newGWHarness(t)
	bad := []string{
		"", "https://evil.example/callback", "http://evil.example:8080/cb", "http://localhost:8080/cb",
		"http://127.0.0.1/cb", "http://127.0.0.1:0/cb", "http://127.0.0.1:99999/cb", "http://127.0.0.1:080/cb",
		"http://user@127.0.0.1:8080/cb", "http://127.0.0.1:8080/cb#frag", "http://127.0.0.2:8080/cb",
		"http://127.0.0.1:8080@evil.example/cb", "https://127.0.0.1:8080/cb", "javascript:alert(1)",
		"//127.0.0.1:8080/cb", "http://[::ffff:127.0.0.1]:8080/cb", "http://0x7f000001:8080/cb", "http://127.1:8080/cb",
		"http://127.0.0.1:8080" + strings.Repeat("/a", 300),
	}
	for _, redirect := range bad {
		t.Run(redirect, func(t *testing.T) {
			b := h.browser()
			w := b.get(cliAuthorizeURL("team", redirect))
			if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" || !strings.Contains(w.Body.String(), cli.CodeInvalidRedirect) {
				t.Errorf("redirect_uri %q: HTTP %d, Location %q; want 400 %s and no redirect", redirect, w.Code, w.Header().Get("Location"), cli.CodeInvalidRedirect)
			}
			if len(b.cookies) != 0 {
				t.Errorf("a refused authorize request started a flow (cookies %v)", b.cookies)
			}
		})
	}
}

func TestCLIAuthorizeParameters(t *testing.T) {
	h := newGWHarness(t)
	base := url.Values{"pool": {"team"}, "provider": {"demo"}, "redirect_uri": {cliLoopback}, "state": {"state-1234567890"},
		"code_challenge": {cliChallenge}, "code_challenge_method": {"S256"}}
	tests := []struct {
		name   string
		change func(url.Values)
		status int
		code   string
	}{
		{"plain PKCE", func(v url.Values) { v.Set("code_challenge_method", "plain") }, 400, core.CodeInvalidRequest},
		{"no challenge", func(v url.Values) { v.Del("code_challenge") }, 400, core.CodeInvalidRequest},
		{"short challenge", func(v url.Values) { v.Set("code_challenge", "abc") }, 400, core.CodeInvalidRequest},
		{"no state", func(v url.Values) { v.Del("state") }, 400, core.CodeInvalidRequest},
		{"unknown pool", func(v url.Values) { v.Set("pool", "nope") }, 404, core.CodeUnknownPool},
		{"no pool", func(v url.Values) { v.Del("pool") }, 400, core.CodeInvalidRequest},
		{"provider not in pool", func(v url.Values) { v.Set("pool", "solo"); v.Set("provider", "app") }, 404, core.CodeUnknownProvider},
		{"two providers, none named", func(v url.Values) { v.Del("provider") }, 400, core.CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range base {
				q[k] = append([]string(nil), v...)
			}
			tt.change(q)
			w := h.browser().get("/cli/authorize?" + q.Encode())
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.code) || w.Header().Get("Location") != "" {
				t.Errorf("HTTP %d (Location %q), want %d %s", w.Code, w.Header().Get("Location"), tt.status, tt.code)
			}
		})
	}
	// The pool's only provider is the default.
	q := url.Values{}
	for k, v := range base {
		q[k] = v
	}
	q.Set("pool", "solo")
	q.Del("provider")
	if w := h.browser().get("/cli/authorize?" + q.Encode()); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="state"`) {
		t.Errorf("solo pool without provider: HTTP %d, want the demo sign-in form", w.Code)
	}
}

func TestCLITokenRefusals(t *testing.T) {
	h := newGWHarness(t)
	tests := []struct {
		name   string
		form   func(code string) url.Values
		status int
		err    string
	}{
		{"wrong verifier", func(code string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {strings.Repeat("a", 43)}, "redirect_uri": {cliLoopback}}
		}, 400, "invalid_grant"},
		{"other redirect_uri", func(code string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {cliVerifier}, "redirect_uri": {"http://127.0.0.1:1/cb"}}
		}, 400, "invalid_grant"},
		{"verifier too short", func(code string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {"short"}, "redirect_uri": {cliLoopback}}
		}, 400, "invalid_request"},
		{"unknown grant type", func(code string) url.Values {
			return url.Values{"grant_type": {"password"}, "code": {code}}
		}, 400, "unsupported_grant_type"},
		{"unknown code", func(string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {"0123"}, "code_verifier": {cliVerifier}, "redirect_uri": {cliLoopback}}
		}, 400, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := h.browser().cliLogin("team", "alice", gwPassAlice).Query().Get("code")
			w, body := h.cliForm("/cli/token", tt.form(code))
			if w.Code != tt.status || body["error"] != tt.err || body["access_token"] != nil {
				t.Fatalf("HTTP %d %v, want %d %s", w.Code, body, tt.status, tt.err)
			}
			if tt.err == "invalid_grant" && tt.name != "unknown code" {
				// A failed redemption spends the code: the right verifier no longer works.
				w, body := h.cliForm("/cli/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {cliVerifier}, "redirect_uri": {cliLoopback}})
				if w.Code != http.StatusBadRequest || body["error"] != "invalid_grant" {
					t.Errorf("code after a failed redemption: HTTP %d %v, want invalid_grant", w.Code, body)
				}
			}
		})
	}
	t.Run("replayed code", func(t *testing.T) {
		code := h.browser().cliLogin("team", "alice", gwPassAlice).Query().Get("code")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {cliVerifier}, "redirect_uri": {cliLoopback}}
		if w, body := h.cliForm("/cli/token", form); w.Code != http.StatusOK {
			t.Fatalf("first use: %d %v", w.Code, body)
		}
		if w, body := h.cliForm("/cli/token", form); w.Code != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("replay: %d %v, want invalid_grant", w.Code, body)
		}
	})
	t.Run("no rule matches", func(t *testing.T) {
		b := h.browser()
		w := b.get(cliAuthorizeURL("team", cliLoopback))
		state := gwFind(t, gwStatePattern, w.Body.String())
		w = b.post("/login/team/demo", url.Values{"state": {state}, "username": {"bob"}, "password": {gwPassBob}})
		// The browser goes back to the waiting `fedgate login` with
		// error=access_denied and the reason, so the command ends at once
		// and says why; no code.
		loc := cliReturn(t, w)
		if loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" || !strings.Contains(loc.Query().Get("error_description"), "no rule of the pool") ||
			loc.Query().Get("state") != "state-1234567890" || loc.Scheme+"://"+loc.Host+loc.Path != cliLoopback {
			t.Errorf("bob's CLI sign-in goes back to %s; want the loopback with error=access_denied, the reason and no code", loc)
		}
		if !strings.Contains(w.Body.String(), "no rule of the pool") {
			t.Errorf("the page does not say why:\n%s", w.Body)
		}
	})
}

func TestCLISessionRefusals(t *testing.T) {
	h := newGWHarness(t)
	alice := h.cliSession("alice", gwPassAlice)
	carol := h.cliSession("carol", gwPassCarol)
	creds := `{"pool":"team","role_arn":"` + gwReader + `"}`
	calls := len(h.sts.WebIdentityCalls())

	// Carol cannot see or revoke alice's session.
	_, list := h.cliCall(http.MethodGet, "/cli/sessions", alice, "")
	aliceID := list["sessions"].([]any)[0].(map[string]any)["id"].(string)
	if w, body := h.cliCall(http.MethodDelete, "/cli/sessions/"+aliceID, carol, ""); w.Code != http.StatusNotFound {
		t.Errorf("carol revoking alice's session: %d %v, want 404", w.Code, body)
	}
	tests := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"no bearer", http.MethodPost, "/cli/credentials", "", creds, 401, core.CodeUnauthorized},
		{"an ID token, not a CLI session", http.MethodPost, "/cli/credentials", "eyJhbGciOi.x.y", creds, 401, core.CodeUnauthorized},
		{"unknown session", http.MethodPost, "/cli/credentials", "fgcli_" + strings.Repeat("A", 43), creds, 401, cli.CodeSessionInvalid},
		{"role not entitled", http.MethodPost, "/cli/credentials", alice, `{"pool":"team","role_arn":"` + gwAdmin + `"}`, 403, core.CodeRoleNotEntitled},
		{"several roles, none named", http.MethodPost, "/cli/credentials", carol, `{"pool":"team"}`, 400, core.CodeRoleRequired},
		{"unknown pool", http.MethodPost, "/cli/credentials", alice, `{"pool":"nope"}`, 404, core.CodeUnknownPool},
		{"unknown field", http.MethodPost, "/cli/credentials", alice, `{"pool":"team","admin":true}`, 400, core.CodeInvalidRequest},
		{"another provider", http.MethodPost, "/cli/credentials", alice, `{"pool":"team","provider":"app"}`, 400, core.CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, body := h.cliCall(tt.method, tt.path, tt.token, tt.body)
			if w.Code != tt.status || body["code"] != tt.code {
				t.Errorf("HTTP %d %v, want %d %s", w.Code, body, tt.status, tt.code)
			}
		})
	}
	if n := len(h.sts.WebIdentityCalls()); n != calls {
		t.Errorf("refused CLI calls reached STS %d times", n-calls)
	}

	t.Run("revoked session", func(t *testing.T) {
		if w, body := h.cliCall(http.MethodDelete, "/cli/sessions/current", alice, ""); w.Code != http.StatusNoContent {
			t.Fatalf("revoke: %d %v", w.Code, body)
		}
		if w, body := h.cliCall(http.MethodPost, "/cli/credentials", alice, creds); w.Code != http.StatusUnauthorized || body["code"] != cli.CodeSessionInvalid {
			t.Errorf("revoked session: %d %v, want 401 %s", w.Code, body, cli.CodeSessionInvalid)
		}
	})
	t.Run("expired session", func(t *testing.T) {
		if w, _ := h.cliCall(http.MethodPost, "/cli/credentials", carol, `{"pool":"team","role_arn":"`+gwReader+`"}`); w.Code != http.StatusOK {
			t.Fatalf("carol before expiry: %d", w.Code)
		}
		h.clock.Advance(12*time.Hour + time.Second)
		if w, body := h.cliCall(http.MethodPost, "/cli/credentials", carol, `{"pool":"team","role_arn":"`+gwReader+`"}`); w.Code != http.StatusUnauthorized || body["code"] != cli.CodeSessionInvalid {
			t.Errorf("expired session: %d %v, want 401 %s", w.Code, body, cli.CodeSessionInvalid)
		}
	})
}

// deviceStart asks for a device code for the team pool.
func (h *gwHarness) deviceStart() map[string]any {
	h.t.Helper()
	w, da := h.cliForm("/cli/device", url.Values{"pool": {"team"}, "provider": {"demo"}, "client_name": {"ci box"}})
	if w.Code != http.StatusOK {
		h.t.Fatalf("device authorization: %d %v", w.Code, da)
	}
	return da
}

func (h *gwHarness) devicePoll(deviceCode string) (int, map[string]any) {
	w, body := h.cliForm("/cli/token", url.Values{"grant_type": {grantDeviceCode}, "device_code": {deviceCode}})
	return w.Code, body
}

// approveDevice enters the user code, signs in and answers the approve page.
func (b *gwBrowser) approveDevice(userCode, user, pass, decision string) *httptest.ResponseRecorder {
	t := b.h.t
	t.Helper()
	page := b.get("/device?user_code=" + url.QueryEscape(userCode))
	csrf := gwFind(t, gwCSRFPattern, page.Body.String())
	w := b.post("/device", url.Values{"csrf": {csrf}, "user_code": {strings.ToLower(userCode)}})
	next := strings.TrimPrefix(w.Header().Get("Refresh"), "0; url=")
	if w.Code != http.StatusOK || !strings.HasPrefix(next, "/device/start?ticket=") {
		t.Fatalf("entering the user code: %d (Refresh %q) %s", w.Code, w.Header().Get("Refresh"), w.Body)
	}
	w = b.get(next)
	if w.Code != http.StatusOK {
		t.Fatalf("continuing to the sign-in: %d %s", w.Code, w.Body)
	}
	state := gwFind(t, gwStatePattern, w.Body.String())
	w = b.post("/login/team/demo", url.Values{"state": {state}, "username": {user}, "password": {pass}})
	if w.Code != http.StatusOK || gwFind(t, cliUserCodeOnPage, w.Body.String()) != userCode {
		t.Fatalf("approve page: %d, want it to show %s\n%s", w.Code, userCode, w.Body)
	}
	csrf = gwFind(t, gwCSRFPattern, w.Body.String())
	return b.post("/device/approve", url.Values{"csrf": {csrf}, "decision": {decision}})
}

func TestCLIDeviceFlow(t *testing.T) {
	h := newGWHarness(t)
	da := h.deviceStart()
	userCode, deviceCode := da["user_code"].(string), da["device_code"].(string)
	if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(userCode) ||
		da["verification_uri"] != "http://127.0.0.1:8080/device" || da["interval"].(float64) != 5 || da["expires_in"].(float64) != 600 {
		t.Fatalf("device authorization = %v", da)
	}
	if status, body := h.devicePoll(deviceCode); status != 400 || body["error"] != "authorization_pending" {
		t.Fatalf("first poll: %d %v, want authorization_pending", status, body)
	}
	if status, body := h.devicePoll(deviceCode); status != 400 || body["error"] != "slow_down" {
		t.Fatalf("immediate second poll: %d %v, want slow_down", status, body)
	}
	b := h.browser()
	w := b.approveDevice(userCode, "alice", gwPassAlice, "approve")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "return to your terminal") {
		t.Fatalf("approving: %d %s", w.Code, w.Body)
	}
	h.clock.Advance(5 * time.Second)
	status, tok := h.devicePoll(deviceCode)
	if status != http.StatusOK || !strings.HasPrefix(tok["access_token"].(string), "fgcli_") || tok["user"] != "alice@example.com" {
		t.Fatalf("poll after approval: %d %v", status, tok)
	}
	if w, body := h.cliCall(http.MethodPost, "/cli/credentials", tok["access_token"].(string), `{"pool":"team"}`); w.Code != http.StatusOK {
		t.Fatalf("credentials with the device session: %d %v", w.Code, body)
	}
	h.clock.Advance(5 * time.Second)
	if status, body := h.devicePoll(deviceCode); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("poll after redemption: %d %v, want invalid_grant (the device code is spent)", status, body)
	}
	// The approve page works once.
	if w := b.post("/device/approve", url.Values{"decision": {"approve"}}); w.Code != http.StatusBadRequest {
		t.Errorf("second approval: HTTP %d, want 400", w.Code)
	}
}

func TestCLIDeviceDeniedAndExpired(t *testing.T) {
	h := newGWHarness(t)
	t.Run("denied", func(t *testing.T) {
		da := h.deviceStart()
		if w := h.browser().approveDevice(da["user_code"].(string), "alice", gwPassAlice, "deny"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "denied") {
			t.Fatalf("denying: %d %s", w.Code, w.Body)
		}
		if status, body := h.devicePoll(da["device_code"].(string)); status != 400 || body["error"] != "access_denied" {
			t.Errorf("poll after denial: %d %v, want access_denied", status, body)
		}
	})
	t.Run("refused: no rule gives bob a role", func(t *testing.T) {
		da := h.deviceStart()
		b := h.browser()
		csrf := gwFind(t, gwCSRFPattern, b.get("/device").Body.String())
		next := strings.TrimPrefix(b.post("/device", url.Values{"csrf": {csrf}, "user_code": {da["user_code"].(string)}}).Header().Get("Refresh"), "0; url=")
		state := gwFind(t, gwStatePattern, b.get(next).Body.String())
		if w := b.post("/login/team/demo", url.Values{"state": {state}, "username": {"bob"}, "password": {gwPassBob}}); w.Code != http.StatusForbidden {
			t.Fatalf("bob's sign-in: HTTP %d, want 403", w.Code)
		}
		h.clock.Advance(5 * time.Second)
		status, body := h.devicePoll(da["device_code"].(string))
		if desc, _ := body["error_description"].(string); status != 400 || body["error"] != "access_denied" || !strings.Contains(desc, "no rule of the pool") {
			t.Errorf("poll after the refusal: %d %v, want access_denied with the reason", status, body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		da := h.deviceStart()
		h.clock.Advance(10*time.Minute + time.Second)
		if status, body := h.devicePoll(da["device_code"].(string)); status != 400 || body["error"] != "expired_token" {
			t.Errorf("poll after expiry: %d %v, want expired_token", status, body)
		}
		b := h.browser()
		csrf := gwFind(t, gwCSRFPattern, b.get("/device").Body.String())
		if w := b.post("/device", url.Values{"csrf": {csrf}, "user_code": {da["user_code"].(string)}}); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "not valid or has expired") {
			t.Errorf("entering an expired code: HTTP %d, want 400 with a clear message", w.Code)
		}
	})
	t.Run("unknown device code", func(t *testing.T) {
		if status, body := h.devicePoll("no-such-code"); status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("unknown device code: %d %v", status, body)
		}
	})
	t.Run("the sign-in step works once, in the browser that typed the code", func(t *testing.T) {
		da := h.deviceStart()
		b := h.browser()
		csrf := gwFind(t, gwCSRFPattern, b.get("/device").Body.String())
		next := strings.TrimPrefix(b.post("/device", url.Values{"csrf": {csrf}, "user_code": {da["user_code"].(string)}}).Header().Get("Refresh"), "0; url=")
		if w := h.browser().get(next); w.Code != http.StatusBadRequest {
			t.Errorf("another browser continuing: HTTP %d, want 400", w.Code)
		}
		if w := b.get(next); w.Code != http.StatusBadRequest {
			t.Errorf("reusing the ticket: HTTP %d, want 400 (the first attempt spent it)", w.Code)
		}
	})
	t.Run("cross-site code entry", func(t *testing.T) {
		b := h.browser()
		csrf := gwFind(t, gwCSRFPattern, b.get("/device").Body.String())
		b.origin = "https://evil.example"
		if w := b.post("/device", url.Values{"csrf": {csrf}, "user_code": {"BCDF-GHJK"}}); w.Code != http.StatusForbidden {
			t.Errorf("cross-origin post: HTTP %d, want 403", w.Code)
		}
		b.origin = ""
		if w := b.post("/device", url.Values{"csrf": {"wrong"}, "user_code": {"BCDF-GHJK"}}); w.Code != http.StatusForbidden {
			t.Errorf("wrong csrf: HTTP %d, want 403", w.Code)
		}
	})
}

// TestCLIUserCodeGuessingIsRateLimited: RFC 8628 §5.1. After the burst of
// wrong guesses from one address, even the right code is refused until
// the bucket refills, so guessing 2^34 codes is hopeless.
func TestCLIUserCodeGuessingIsRateLimited(t *testing.T) {
	h := newGWHarness(t)
	da := h.deviceStart()
	b := h.browser()
	csrf := gwFind(t, gwCSRFPattern, b.get("/device").Body.String())
	for i := range 10 {
		if w := b.post("/device", url.Values{"csrf": {csrf}, "user_code": {"BBBB-BBB" + string("CDFGHJKLMN"[i])}}); w.Code != http.StatusBadRequest {
			t.Fatalf("guess %d: HTTP %d, want 400", i, w.Code)
		}
	}
	w := b.post("/device", url.Values{"csrf": {csrf}, "user_code": {da["user_code"].(string)}})
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), cli.CodeTooManyAttempts) {
		t.Fatalf("11th attempt: HTTP %d, want 429 with Retry-After", w.Code)
	}
	h.clock.Advance(6 * time.Second) // one more attempt refills
	if w := b.post("/device", url.Values{"csrf": {csrf}, "user_code": {da["user_code"].(string)}}); w.Code != http.StatusOK || w.Header().Get("Refresh") == "" {
		t.Errorf("after waiting: HTTP %d, want the code accepted", w.Code)
	}
}

// federationDouble is a test double of the AWS federation endpoint.
type federationDouble struct {
	mu      sync.Mutex
	queries []url.Values
}

func (f *federationDouble) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.queries = append(f.queries, r.URL.Query())
	f.mu.Unlock()
	if r.URL.Query().Get("Action") != "getSigninToken" {
		http.Error(w, "unexpected", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"SigninToken":"signin-token-123"}`))
}

func TestConsoleButton(t *testing.T) {
	fed := &federationDouble{}
	srv := httptest.NewServer(fed)
	defer srv.Close()
	// The federation double runs on loopback: the operator allows it.
	h := newGWHarness(t, func(f *config.File) {
		f.Console.FederationURL = srv.URL + "/federation"
		f.Server.AllowUpstreamCIDRs = []string{"127.0.0.0/8"}
	})
	b := h.browser()
	w := b.signIn("solo", "alice", gwPassAlice)
	ticket := gwFind(t, regexp.MustCompile(`name="ticket" value="([0-9a-f]{64})"`), w.Body.String())
	creds := h.sts.Vended()[0]

	b.origin = "https://evil.example"
	if w := b.post("/console", url.Values{"ticket": {ticket}}); w.Code != http.StatusForbidden {
		t.Errorf("cross-site console post: HTTP %d, want 403", w.Code)
	}
	b.origin = ""
	if w := b.post("/console", url.Values{"ticket": {"0123"}}); w.Code != http.StatusBadRequest {
		t.Errorf("unknown ticket: HTTP %d, want 400", w.Code)
	}
	w = b.post("/console", url.Values{"ticket": {ticket}})
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("console: HTTP %d %s", w.Code, w.Body)
	}
	if len(fed.queries) != 1 {
		t.Fatalf("federation endpoint called %d times, want once", len(fed.queries))
	}
	q := fed.queries[0]
	var session map[string]string
	if err := json.Unmarshal([]byte(q.Get("Session")), &session); err != nil {
		t.Fatalf("Session is not JSON: %v", err)
	}
	want := map[string]string{"sessionId": creds.AccessKeyID, "sessionKey": creds.SecretAccessKey, "sessionToken": creds.SessionToken}
	if len(session) != 3 || session["sessionId"] != want["sessionId"] || session["sessionKey"] != want["sessionKey"] || session["sessionToken"] != want["sessionToken"] {
		t.Errorf("Session = %v, want exactly %v", session, want)
	}
	if q.Get("SessionDuration") != "3600" { // the credentials' remaining lifetime
		t.Errorf("SessionDuration = %q, want 3600", q.Get("SessionDuration"))
	}
	refresh := w.Header().Get("Refresh")
	login, err := url.Parse(strings.TrimPrefix(refresh, "0; url="))
	if err != nil || login.Scheme+"://"+login.Host+login.Path != srv.URL+"/federation" {
		t.Fatalf("Refresh header %q does not lead to the federation endpoint", refresh)
	}
	lq := login.Query()
	if lq.Get("Action") != "login" || lq.Get("SigninToken") != "signin-token-123" || lq.Get("Issuer") != "http://127.0.0.1:8080/" || lq.Get("Destination") != "https://console.aws.amazon.com/" {
		t.Errorf("login URL query = %v", lq)
	}
	if strings.Contains(h.logs.String(), "signin-token-123") || strings.Contains(h.logs.String(), creds.SecretAccessKey) {
		t.Error("the sign-in token or a secret reached the log")
	}
}
