package gateway

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/cognito"
	"fedgate/gateway/testkit"
)

// twinToken is a token the real IdP signs for alice (an attacker who can
// name a claim of her own) carrying members that repeat a registered
// claim under another letter case, after alice's own.
func (h *cogHarness) twinToken(members string) string {
	claims := h.idClaims("")
	delete(claims, "nonce")
	return h.idp.Key("k1").SignPayload(h.t, testkit.WithMembersLast(h.t, claims, members))
}

// TestAttackCaseVariantClaimsCognito: alice's token with "Sub":"carol"
// appended neither finds carol's identity through GetId nor gets carol's
// credentials; an "EXP" twin does not revive an expired token.
func TestAttackCaseVariantClaimsCognito(t *testing.T) {
	h := newCogHarness(t)
	carol := h.mustID(cogPoolID, h.logins("carol"))
	before := h.identities()
	past := h.clock.Now().Add(-time.Hour).Unix()
	for _, members := range []string{`"Sub":"carol"`, `"SUB":"carol"`, `"ſub":"carol"`, `"Aud":"` + cogWebClient + `"`, `"Iss":"` + h.idp.URL() + `"`,
		`"EXP":` + jsonNumber(past), `"Nbf":` + jsonNumber(past)} {
		t.Run(members, func(t *testing.T) {
			logins := map[string]string{h.idp.loginKey(): h.twinToken(members)}
			if r := h.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": logins}); r.errorType() != cognito.ErrNotAuthorized || r.status != http.StatusBadRequest {
				t.Errorf("GetId: %d %s", r.status, r.body)
			}
			if r, _ := h.creds(carol, logins, ""); r.errorType() != cognito.ErrNotAuthorized {
				t.Errorf("GetCredentialsForIdentity on carol's identity: %d %s", r.status, r.body)
			}
		})
	}
	if n := h.identities(); n != before {
		t.Errorf("identities %d → %d", before, n)
	}
	if len(h.sts.WebIdentityCalls()) != 0 {
		t.Error("STS was called")
	}
	if strings.Contains(h.logs.String(), `"subject":"carol"`) {
		t.Error("a refused token's twin subject reached the log as the subject")
	}
}

// TestAttackCaseVariantClaimsAPI: the JSON API refuses the same tokens
// with 401 invalid_token and calls no STS.
func TestAttackCaseVariantClaimsAPI(t *testing.T) {
	h := newCogHarness(t)
	for _, members := range []string{`"Sub":"carol"`, `"EXP":` + jsonNumber(h.clock.Now().Add(-time.Hour).Unix())} {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/credentials", strings.NewReader(`{"pool":"mobile"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+h.twinToken(members))
		r := h.do(req)
		var e struct{ Code string }
		_ = json.Unmarshal(r.body, &e)
		if r.status != http.StatusUnauthorized || e.Code != "invalid_token" {
			t.Errorf("%s: %d %s", members, r.status, r.body)
		}
	}
	if len(h.sts.WebIdentityCalls()) != 0 {
		t.Error("STS was called")
	}
}

// cogBrowser is one browser (a cookie jar) on the harness's gateway.
type cogBrowser struct {
	h   *cogHarness
	jar map[string]string
}

func (b *cogBrowser) get(path string) cogResult {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range b.jar {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	w := httptest.NewRecorder()
	b.h.srv.Handler().ServeHTTP(w, req)
	for _, c := range w.Result().Cookies() {
		b.jar[c.Name] = c.Value
	}
	return cogResult{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// startOIDC opens a sign-in to pool mobile through the IdP and returns the
// authorization request the browser is sent to.
func (b *cogBrowser) startOIDC() url.Values {
	b.h.t.Helper()
	start := b.get("/login/mobile/corp")
	authorize, err := url.Parse(start.header.Get("Location"))
	if start.status != http.StatusFound || err != nil || !strings.HasPrefix(authorize.String(), b.h.idp.URL()) {
		b.h.t.Fatalf("GET /login: %d, redirect to %q", start.status, start.header.Get("Location"))
	}
	return authorize.Query()
}

// serveIDToken makes the IdP's token endpoint answer with an ID token of
// claims plus the raw members after them.
func (h *cogHarness) serveIDToken(claims map[string]any, members string) {
	h.idp.Handle("POST /token", func(w http.ResponseWriter, _ *http.Request) {
		payload := testkit.WithMembersLast(h.t, claims, members)
		if members == "" {
			payload, _ = json.Marshal(claims)
		}
		testkit.WriteJSON(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300,
			"id_token": h.idp.Key("k1").SignPayload(h.t, payload)})
	})
}

// idClaims are alice's ID-token claims for the flow with nonce.
func (h *cogHarness) idClaims(nonce string) map[string]any {
	now := h.clock.Now()
	claims := map[string]any{"iss": h.idp.URL(), "sub": "alice", "aud": cogWebClient, "nonce": nonce, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	maps.Copy(claims, cogUsers["alice"])
	return claims
}

// TestAttackCaseVariantClaimsBrowser: a browser sign-in whose ID token
// (from the IdP's token endpoint) carries "Sub":"carol" ends in a refusal
// page, with no session for anyone.
func TestAttackCaseVariantClaimsBrowser(t *testing.T) {
	h := newCogHarness(t)
	b := &cogBrowser{h: h, jar: map[string]string{}}
	authorize := b.startOIDC()
	h.serveIDToken(h.idClaims(authorize.Get("nonce")), `"Sub":"carol"`)
	back := b.get("/callback?code=c1&state=" + url.QueryEscape(authorize.Get("state")))
	if back.status != http.StatusUnauthorized || !strings.Contains(string(back.body), "invalid_token") {
		t.Fatalf("callback: %d %s", back.status, back.body)
	}
	if strings.Contains(string(back.body), "carol") {
		t.Error("the refusal page names the twin subject")
	}
	if len(h.sts.WebIdentityCalls()) != 0 {
		t.Error("STS was called")
	}
}

// TestAttackCallbackWithoutAdvertisedIssuer: an IdP that announces RFC
// 9207's iss parameter always sends it, so an authorization response
// without iss (a mix-up attacker relaying another IdP's code leaves it
// out) is refused before the code is redeemed; with the right iss the
// sign-in goes on.
func TestAttackCallbackWithoutAdvertisedIssuer(t *testing.T) {
	h := newCogHarnessDiscovery(t, map[string]any{"authorization_response_iss_parameter_supported": true})
	redeemed := 0
	b := &cogBrowser{h: h, jar: map[string]string{}}
	authorize := b.startOIDC()
	h.idp.Handle("POST /token", func(w http.ResponseWriter, _ *http.Request) {
		redeemed++
		testkit.WriteJSON(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300,
			"id_token": h.idp.Sign("k1", h.idClaims(authorize.Get("nonce")))})
	})
	state := url.QueryEscape(authorize.Get("state"))
	for _, tc := range []struct {
		name, query string
		status      int
	}{
		{"no iss", "code=c1&state=" + state, http.StatusBadRequest},
		{"empty iss", "code=c1&iss=&state=" + state, http.StatusBadRequest},
		{"another issuer", "code=c1&iss=https%3A%2F%2Fevil.example&state=" + state, http.StatusBadRequest},
	} {
		if r := b.get("/callback?" + tc.query); r.status != tc.status {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	if redeemed != 0 {
		t.Fatalf("the code was redeemed %d times", redeemed)
	}
	// A refused answer spends the flow; a new sign-in with iss completes.
	authorize = b.startOIDC()
	r := b.get("/callback?code=c2&iss=" + url.QueryEscape(h.idp.URL()) + "&state=" + url.QueryEscape(authorize.Get("state")))
	if r.status >= 400 || redeemed != 1 {
		t.Fatalf("with iss: %d (redeemed %d) %s", r.status, redeemed, r.body)
	}
}

// TestAttackControlCharactersInSubject: a subject holding NUL or a
// control character is an invalid token (401 / NotAuthorizedException),
// never an internal error, and stores nothing.
func TestAttackControlCharactersInSubject(t *testing.T) {
	h := newCogHarness(t)
	for _, sub := range []string{"carol\x00", "ca\nrol", "\x1b[2Jcarol"} {
		token := h.idp.token(t, sub, cogWebClient, 5*time.Minute, map[string]any{"groups": []any{"admins"}})
		if r := h.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": map[string]string{h.idp.loginKey(): token}}); r.errorType() != cognito.ErrNotAuthorized {
			t.Errorf("GetId %q: %d %s", sub, r.status, r.body)
		}
		req := httptest.NewRequest(http.MethodPost, "/api/v1/credentials", strings.NewReader(`{"pool":"mobile"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		if r := h.do(req); r.status != http.StatusUnauthorized {
			t.Errorf("API %q: %d %s", sub, r.status, r.body)
		}
	}
	for _, body := range []string{
		`{"IdentityId":"us-east-1:00000000-0000-0000-0000-00000000000\u0000"}`,
		`{"IdentityPoolId":"` + cogPoolID + `","Logins":{"idp\u0000.example":"x"}}`,
	} {
		op := "GetCredentialsForIdentity"
		if strings.Contains(body, "IdentityPoolId") {
			op = "GetId"
		}
		if r := h.call(op, body); r.status >= 500 {
			t.Errorf("%s %s: %d %s", op, body, r.status, r.body)
		}
	}
	if n := h.identities(); n != 0 {
		t.Errorf("%d identities stored", n)
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
