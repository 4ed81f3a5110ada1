package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/testkit"
)

// TestEndToEndOIDC is what a person and an app do with fedgate, against the
// real binary, a real OIDC IdP and moto's STS with IAM enforcement.
func TestEndToEndOIDC(t *testing.T) {
	e := startEnv(t)

	t.Run("browser sign-in vends least-privilege credentials (gateway-token)", func(t *testing.T) {
		c, r := e.signInPage("team", "alice")
		if r.status != http.StatusOK {
			t.Fatalf("callback: HTTP %d\n%s", r.status, r.body)
		}
		page := pickOnlyRole(t, c, e.url, r.body)
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("credentials page Cache-Control = %q, want no-store", r.header.Get("Cache-Control"))
		}
		for _, want := range []string{e.readerRole, "us-east-1:", "[fedgate]", "aws_session_token", "secret_access_key", "Expires"} {
			if !strings.Contains(page, want) {
				t.Errorf("credentials page lacks %q", want)
			}
		}
		e.assertLeastPrivilege(credsFromPage(t, page))

		// The token fedgate minted for STS verifies with an independent
		// library through fedgate's own discovery document and JWKS.
		_, minted := e.tap.Snapshot()
		claims := peers.VerifyWithJose(t, e.url, poolGatewayID, minted)
		if sub, _ := claims["sub"].(string); !strings.HasPrefix(sub, "us-east-1:") {
			t.Errorf("minted sub = %v, want the identity id", claims["sub"])
		}
		if amr, _ := json.Marshal(claims["amr"]); string(amr) != `["authenticated","corp"]` {
			t.Errorf("minted amr = %s", amr)
		}
		tags, _ := json.Marshal(claims["https://aws.amazon.com/tags"])
		if !strings.Contains(string(tags), `"department":["eng"]`) {
			t.Errorf("minted session tags = %s, want department=eng", tags)
		}
	})

	t.Run("the same person keeps the same identity id", func(t *testing.T) {
		first := e.api(e.token("alice", e2eClientID, 5*time.Minute), map[string]any{"pool": "team"})
		second := e.api(e.token("alice", e2eMobileClient, 5*time.Minute), map[string]any{"pool": poolGatewayID})
		if first.status != 200 || second.status != 200 || first.body["identity_id"] != second.body["identity_id"] {
			t.Fatalf("identity ids differ: %v / %v", first.body["identity_id"], second.body["identity_id"])
		}
	})

	t.Run("API vends least-privilege credentials (gateway-token)", func(t *testing.T) {
		r := e.api(e.token("alice", e2eClientID, 5*time.Minute), map[string]any{"pool": "team", "duration_seconds": 900})
		e.assertLeastPrivilege(r.creds(t))
		exp, err := time.Parse(time.RFC3339, r.body["expiration"].(string))
		if err != nil || time.Until(exp) > 16*time.Minute || time.Until(exp) < 10*time.Minute {
			t.Errorf("expiration %v for duration_seconds 900", r.body["expiration"])
		}
	})

	t.Run("upstream-token mode forwards the IdP's own token", func(t *testing.T) {
		tok := e.token("alice", e2eClientID, 5*time.Minute)
		r := e.api(tok, map[string]any{"pool": "team-upstream"})
		e.assertLeastPrivilege(r.creds(t))
		if _, last := e.tap.Snapshot(); last != tok {
			t.Error("upstream-token mode did not pass the upstream ID token to STS unchanged")
		}
		_, page := e.signInCreds("team-upstream", "alice")
		e.assertLeastPrivilege(credsFromPage(t, page))
	})

	t.Run("several matching rules open the role picker", func(t *testing.T) {
		c, r := e.signInPage("picker", "carol")
		page := r.body
		if r.status != http.StatusOK || !strings.Contains(page, "Choose a role") {
			t.Fatalf("picker: HTTP %d\n%s", r.status, page)
		}
		for _, role := range []string{e.readerRole, e.adminRole} {
			if !strings.Contains(page, role) {
				t.Errorf("picker lacks %s", role)
			}
		}
		csrf := regexpFind(t, page, `name="csrf" value="([^"]+)"`)
		// Without the form's token the post is refused.
		if status, _ := postForm(t, c, e.url+"/roles", url.Values{"role": {e.readerRole}}); status != http.StatusForbidden {
			t.Errorf("picker post without csrf: HTTP %d, want 403", status)
		}
		status, page := postForm(t, c, e.url+"/roles", url.Values{"csrf": {csrf}, "role": {e.readerRole}})
		if status != http.StatusOK {
			t.Fatalf("picking reader role: HTTP %d\n%s", status, page)
		}
		e.assertLeastPrivilege(credsFromPage(t, page))
		// A role the rules do not give carol is refused even with a valid form.
		status, _ = postForm(t, c, e.url+"/roles", url.Values{"csrf": {csrf}, "role": {"arn:aws:iam::123456789012:role/not-hers"}})
		if status != http.StatusForbidden {
			t.Errorf("picking an unentitled role: HTTP %d, want 403", status)
		}
		// The API asks which role when several apply, and names them.
		api := e.api(e.token("carol", e2eClientID, 5*time.Minute), map[string]any{"pool": "picker"})
		if api.status != http.StatusBadRequest || api.body["code"] != "role_required" {
			t.Errorf("API with two roles and none named: %d %v", api.status, api.body)
		}
		api = e.api(e.token("carol", e2eClientID, 5*time.Minute), map[string]any{"pool": "picker", "role_arn": e.adminRole})
		if api.status != http.StatusOK || api.body["role_arn"] != e.adminRole {
			t.Errorf("API naming the admin role: %d %v", api.status, api.body)
		}
	})

	t.Run("refusals vend nothing and store nothing", func(t *testing.T) {
		w := e.watchVends()
		alice := e.token("alice", e2eClientID, 5*time.Minute)
		cases := []struct {
			name   string
			token  string
			body   any
			status int
			code   string
		}{
			{"no matching rule", e.token("bob", e2eClientID, 5*time.Minute), map[string]any{"pool": "team"}, 403, "no_matching_rule"},
			{"role not entitled", alice, map[string]any{"pool": "team", "role_arn": e.adminRole}, 403, "role_not_entitled"},
			{"token for another client", e.token("alice", "someone-else", 5*time.Minute), map[string]any{"pool": "team"}, 401, "invalid_token"},
			{"expired token", e.token("alice", e2eClientID, -10*time.Minute), map[string]any{"pool": "team"}, 401, "expired_token"},
			{"bad signature", tamperSignature(alice), map[string]any{"pool": "team"}, 401, "invalid_token"},
			{"another issuer", e.idp.MintIDToken(t, "alice", e2eClientID, map[string]any{"iss": "http://127.0.0.1:1/evil", "groups": []string{"s3-readers"}}, 5*time.Minute), map[string]any{"pool": "team"}, 401, "invalid_token"},
			{"signed by a key not the IdP's", forgedToken(t, e.idp.Issuer), map[string]any{"pool": "team"}, 401, "invalid_token"},
			{"alg none", algNone(e.idp.Issuer), map[string]any{"pool": "team"}, 401, "invalid_token"},
			{"missing bearer", "", map[string]any{"pool": "team"}, 401, "unauthorized"},
			{"garbage bearer", "not-a-jwt", map[string]any{"pool": "team"}, 401, "invalid_token"},
			{"unknown pool", alice, map[string]any{"pool": "nope"}, 404, "unknown_pool"},
			{"malformed JSON", alice, `{"pool":`, 400, "invalid_request"},
			{"unknown field", alice, `{"pool":"team","admin":true}`, 400, "invalid_request"},
			{"duration above the pool's", alice, map[string]any{"pool": "team", "duration_seconds": 43200}, 400, "invalid_request"},
			{"oversized body", alice, `{"pool":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "request_too_large"},
		}
		for _, tc := range cases {
			r := e.api(tc.token, tc.body)
			if r.status != tc.status || r.body["code"] != tc.code {
				t.Errorf("%s: got %d %v, want %d %s", tc.name, r.status, r.body, tc.status, tc.code)
			}
			if msg, _ := r.body["message"].(string); msg == "" || strings.Contains(msg, "s3-readers") {
				t.Errorf("%s: message %q is empty or leaks configuration", tc.name, msg)
			}
		}
		w.none(t, "refused requests")
	})

	t.Run("browser refusals", func(t *testing.T) {
		w := e.watchVends()

		if _, r := e.signInPage("team", "bob"); r.status != http.StatusForbidden || !strings.Contains(r.body, "no rule") || strings.Contains(r.body, "s3-readers") {
			t.Errorf("bob: HTTP %d, want 403 saying no rule matched without naming claims\n%s", r.status, r.body)
		}
		w.none(t, "a person with no matching rule")

		// A callback URL works once: replaying its state is refused.
		c := browser(t)
		cb := e.signIn(c, "team", "alice")
		if status, _, _ := get(t, c, cb.String()); status != http.StatusOK {
			t.Fatalf("first use of callback: HTTP %d", status)
		}
		// It opened the portal; nothing is vended before a role is picked.
		if status, _, page := get(t, c, cb.String()); status != http.StatusBadRequest || !strings.Contains(page, "sign_in_expired") {
			t.Errorf("replayed state: HTTP %d, want 400 sign_in_expired", status)
		}

		// Unknown state, and a callback in a browser that did not start the flow.
		if status, _, _ := get(t, browser(t), e.url+"/callback?state=deadbeef&code=x"); status != http.StatusBadRequest {
			t.Errorf("unknown state: HTTP %d, want 400", status)
		}
		c = browser(t)
		cb = e.signIn(c, "team", "alice")
		if status, _, page := get(t, browser(t), cb.String()); status != http.StatusBadRequest || !strings.Contains(page, "another browser") {
			t.Errorf("callback without the flow cookie: HTTP %d, want 400", status)
		}

		// Code injection: a code issued to the attacker's flow (and PKCE
		// verifier) delivered with the victim's state is refused by the IdP's
		// PKCE check, so fedgate vends nothing.
		attacker := browser(t)
		stolen := e.signIn(attacker, "team", "alice").Query().Get("code")
		victim := browser(t)
		victimState := startFlowState(t, victim, e.url+"/login/team/corp")
		status, _, _ := get(t, victim, e.url+"/callback?state="+victimState+"&code="+url.QueryEscape(stolen))
		if status != http.StatusBadRequest {
			t.Errorf("code from another flow (PKCE mismatch): HTTP %d, want 400", status)
		}

		// Mix-up (RFC 9207): an answer naming another issuer is refused
		// before any code is redeemed, whatever the code.
		victim = browser(t)
		victimState = startFlowState(t, victim, e.url+"/login/team/corp")
		cb = e.signIn(browser(t), "team", "alice")
		if cb.Query().Get("iss") == "" {
			t.Error("the IdP's answer carries no iss (RFC 9207); the mix-up check below would prove nothing")
		}
		status, _, page := get(t, victim, e.url+"/callback?"+url.Values{"state": {victimState}, "code": {cb.Query().Get("code")}, "iss": {"http://127.0.0.1:1/other-idp"}}.Encode())
		if status != http.StatusBadRequest || !strings.Contains(page, "another identity provider") {
			t.Errorf("answer naming another issuer: HTTP %d, want 400", status)
		}

		w.none(t, "browser refusals")
	})

	t.Run("minted tokens verify after a key rotation", func(t *testing.T) {
		before := e.api(e.token("alice", e2eClientID, 5*time.Minute), map[string]any{"pool": "team"})
		if before.status != 200 {
			t.Fatalf("vend before rotation: %v", before.body)
		}
		_, oldToken := e.tap.Snapshot()
		out, err := e.fedgate("keys", "rotate")
		if err != nil {
			t.Fatalf("fedgate keys rotate: %v\n%s", err, out)
		}
		// The running server picks up the new key within its reload interval.
		var newToken string
		rotated := testkit.Eventually(10*time.Second, 500*time.Millisecond, func() bool {
			if r := e.api(e.token("alice", e2eClientID, 5*time.Minute), map[string]any{"pool": "team"}); r.status != 200 {
				t.Fatalf("vend after rotation: %v", r.body)
			}
			_, newToken = e.tap.Snapshot()
			return kid(t, newToken) != kid(t, oldToken)
		})
		if !rotated {
			t.Fatal("the server still signs with the old key 10s after rotation")
		}
		peers.VerifyWithJose(t, e.url, poolGatewayID, newToken)
		peers.VerifyWithJose(t, e.url, poolGatewayID, oldToken) // old key stays published
	})

	t.Run("logs never carry tokens, secrets or credentials", func(t *testing.T) {
		tok := e.token("alice", e2eClientID, 5*time.Minute)
		creds := e.api(tok, map[string]any{"pool": "team"}).creds(t)
		secrets := append(e.tap.Tokens(), tok, creds.SecretAccessKey, creds.SessionToken, e2eClientSecret, e2eMasterKey)
		logs := e.logs.String()
		if !strings.Contains(logs, `"msg":"credentials vended"`) {
			t.Fatal("fedgate's log has no vend lines; the check below would prove nothing")
		}
		for i, s := range secrets {
			if s != "" && strings.Contains(logs, s) {
				t.Errorf("secret #%d (%.12s…) appears in fedgate's log", i, s)
			}
		}
	})

	t.Run("trust-policy prints what IAM needs", func(t *testing.T) {
		out, err := e.fedgate("trust-policy", "--pool", "team")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		host := strings.TrimPrefix(e.url, "http://")
		for _, want := range []string{
			"aws iam create-open-id-connect-provider --url " + e.url + " --client-id-list " + poolGatewayID + " " + poolPickerID,
			`"Federated": "arn:aws:iam::123456789012:oidc-provider/` + host + `"`,
			`"` + host + `:aud": "` + poolGatewayID + `"`,
			`"sts:TagSession"`,
			e.readerRole,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("trust-policy output lacks %q:\n%s", want, out)
			}
		}
	})
}

// startFlowState begins a sign-in and returns its state without finishing it.
func startFlowState(t *testing.T, c *http.Client, loginURL string) string {
	t.Helper()
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := nc.Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("state") == "" {
		t.Fatalf("login did not redirect to the IdP with a state: %v", resp.Header)
	}
	if loc.Query().Get("code_challenge_method") != "S256" || loc.Query().Get("nonce") == "" {
		t.Errorf("authorization request lacks PKCE S256 or nonce: %s", loc.RawQuery)
	}
	return loc.Query().Get("state")
}

func tamperSignature(tok string) string {
	parts := strings.Split(tok, ".")
	sig := []byte(parts[2])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	return parts[0] + "." + parts[1] + "." + string(sig)
}

func forgedToken(t *testing.T, issuer string) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "forged").WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: issuer, Subject: "alice", Audience: jwt.Audience{e2eClientID},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute))}).
		Claims(map[string]any{"groups": []string{"s3-readers"}}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func algNone(issuer string) string {
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"alg":"none","typ":"JWT"}`))
	now := time.Now().Unix()
	payload, _ := json.Marshal(map[string]any{"iss": issuer, "sub": "alice", "aud": e2eClientID, "iat": now, "exp": now + 300, "groups": []string{"s3-readers"}})
	return header + "." + enc(payload) + "."
}

func kid(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil || h.Kid == "" {
		t.Fatalf("token header has no kid: %s", raw)
	}
	return h.Kid
}
