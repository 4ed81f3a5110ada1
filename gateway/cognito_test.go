package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/cognito"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

type cogCreds struct {
	IdentityId  string
	Credentials struct {
		AccessKeyId, SecretKey, SessionToken string
		Expiration                           json.Number
	}
}

func (h *cogHarness) creds(id string, logins map[string]string, customRole string) (cogResult, cogCreds) {
	h.t.Helper()
	body := map[string]any{"IdentityId": id}
	if logins != nil {
		body["Logins"] = logins
	}
	if customRole != "" {
		body["CustomRoleArn"] = customRole
	}
	r := h.call("GetCredentialsForIdentity", body)
	var out cogCreds
	if r.status == http.StatusOK {
		if err := json.Unmarshal(r.body, &out); err != nil {
			h.t.Fatal(err)
		}
	}
	return r, out
}

// TestCognitoIdentitiesAreStable: the same person gets the same identity
// id whichever of the provider's clients the token was issued to; other
// people and guests get their own.
func TestCognitoIdentitiesAreStable(t *testing.T) {
	h := newCogHarness(t)
	a1 := h.mustID(cogPoolID, h.logins("alice"))
	a2 := h.mustID(cogPoolID, map[string]string{h.idp.loginKey(): h.idp.token(t, "alice", cogMobile, 5*time.Minute, nil)})
	if a1 != a2 {
		t.Errorf("alice got %s then %s", a1, a2)
	}
	if !strings.HasPrefix(a1, "us-east-1:") || !regexp.MustCompile(`^[\w-]+:[0-9a-f-]+$`).MatchString(a1) {
		t.Errorf("identity id %q is not REGION:UUID", a1)
	}
	if c := h.mustID(cogPoolID, h.logins("carol")); c == a1 {
		t.Error("carol got alice's identity")
	}
	if a3 := h.mustID(cogClosedID, h.logins("alice")); a3 == a1 || !strings.HasPrefix(a3, "eu-west-1:") {
		t.Errorf("alice's identity in another pool = %s (first pool: %s)", a3, a1)
	}
	g1, g2 := h.mustID(cogPoolID, nil), h.mustID(cogPoolID, nil)
	if g1 == g2 || g1 == a1 {
		t.Errorf("guest ids %s, %s must be new each time", g1, g2)
	}
	if n := h.identities(); n != 5 {
		t.Errorf("%d identities stored, want 5", n)
	}
}

// TestCognitoVendsWithTheRules: credentials come from the role the rules
// give, with the pool's duration (two hours: not capped at one as in
// Cognito), principal tags from claims, and the pool's audience.
func TestCognitoVendsWithTheRules(t *testing.T) {
	h := newCogHarness(t)
	id := h.mustID(cogPoolID, h.logins("alice"))
	r, out := h.creds(id, h.logins("alice"), "")
	if r.status != http.StatusOK {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	call := h.sts.LastWebIdentity(t)
	if call.RoleARN != cogReaderRole || call.Duration != 2*time.Hour || call.SessionName != "alice@example.com" {
		t.Errorf("STS call = role %s duration %v session %s", call.RoleARN, call.Duration, call.SessionName)
	}
	if exp, _ := out.Credentials.Expiration.Int64(); exp != cogFixedNow.Add(2*time.Hour).Unix() {
		t.Errorf("Expiration = %s, want epoch seconds two hours ahead", out.Credentials.Expiration)
	}
	claims := h.verifyMinted(call.Token)
	if claims["sub"] != id || claims["aud"] != cogPoolID || claims["iss"] != cogPublicURL {
		t.Errorf("minted sub/aud/iss = %v %v %v", claims["sub"], claims["aud"], claims["iss"])
	}
	if amr, _ := json.Marshal(claims["amr"]); string(amr) != `["authenticated","corp"]` {
		t.Errorf("amr = %s", amr)
	}
	if tags, _ := json.Marshal(claims["https://aws.amazon.com/tags"]); string(tags) != `{"principal_tags":{"department":["eng"]}}` {
		t.Errorf("tags = %s", tags)
	}
}

// TestCognitoRoleResolution: several grants and no CustomRoleArn take the
// first (the pool's order); CustomRoleArn picks among the granted roles
// only.
func TestCognitoRoleResolution(t *testing.T) {
	tests := []struct {
		name, user, custom, wantRole, wantType string
	}{
		{"one grant", "alice", "", cogReaderRole, ""},
		{"ambiguous takes the first", "carol", "", cogReaderRole, ""},
		{"custom role granted", "carol", cogAdminRole, cogAdminRole, ""},
		{"custom role not granted", "alice", cogAdminRole, "", cognito.ErrNotAuthorized},
		{"custom role unknown", "carol", "arn:aws:iam::123456789012:role/other", "", cognito.ErrNotAuthorized},
		{"no rule matches", "bob", "", "", cognito.ErrNotAuthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newCogHarness(t)
			id := h.mustID(cogPoolID, h.logins(tt.user))
			r, _ := h.creds(id, h.logins(tt.user), tt.custom)
			if got := r.errorType(); got != tt.wantType {
				t.Fatalf("__type = %q, want %q (%s)", got, tt.wantType, r.body)
			}
			if tt.wantType != "" {
				if len(h.sts.WebIdentityCalls()) != 0 {
					t.Error("a refusal called STS")
				}
				return
			}
			if got := h.sts.LastWebIdentity(t).RoleARN; got != tt.wantRole {
				t.Errorf("role = %s, want %s", got, tt.wantRole)
			}
		})
	}
}

// TestCognitoGuests: a guest gets the pool's unauthenticated role with a
// token whose audience no authenticated role trusts and amr
// "unauthenticated"; guests stop working when the pool disallows them.
func TestCognitoGuests(t *testing.T) {
	h := newCogHarness(t)
	id := h.mustID(cogPoolID, nil)
	r, _ := h.creds(id, nil, "")
	if r.status != http.StatusOK {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	call := h.sts.LastWebIdentity(t)
	claims := h.verifyMinted(call.Token)
	if call.RoleARN != cogGuestRole || claims["aud"] != cogPoolID+":unauthenticated" || claims["sub"] != id {
		t.Errorf("guest vend: role %s aud %v sub %v", call.RoleARN, claims["aud"], claims["sub"])
	}
	if amr, _ := json.Marshal(claims["amr"]); string(amr) != `["unauthenticated"]` {
		t.Errorf("amr = %s", amr)
	}
	if _, ok := claims["https://aws.amazon.com/tags"]; ok {
		t.Error("a guest token carries session tags")
	}
	if r, _ := h.creds(id, nil, cogReaderRole); r.errorType() != cognito.ErrNotAuthorized {
		t.Errorf("guest with CustomRoleArn of an authenticated role: %s", r.body)
	}

	// The admin turns guests off: the existing guest id stops working.
	h.reloadWith(func(f *config.File) { f.Pools[0].AllowGuests = false })
	if r, _ := h.creds(id, nil, ""); r.errorType() != cognito.ErrNotAuthorized || !strings.Contains(string(r.body), "Unauthenticated access") {
		t.Errorf("guest after guests were disabled: %s", r.body)
	}
}

// reloadWith stores a changed configuration and reloads it, as an admin
// edit and the watch loop would.
func (h *cogHarness) reloadWith(change func(*config.File)) {
	h.t.Helper()
	f := *h.cfg
	f.Pools = slices.Clone(h.cfg.Pools)
	f.MappingsSource.Source = config.MappingsFromFile
	change(&f)
	if _, err := core.Seed(h.t.Context(), h.store, h.srv.core.Box(), &f, h.srv.log); err != nil {
		h.t.Fatal(err)
	}
	if err := h.srv.core.Reload(h.t.Context()); err != nil {
		h.t.Fatal(err)
	}
}

// TestCognitoOpenIDToken: the basic flow's token lasts 10 minutes, has the
// pool's audience (the guest audience for guests) and verifies with the
// gateway's JWKS.
func TestCognitoOpenIDToken(t *testing.T) {
	h := newCogHarness(t)
	for _, tc := range []struct {
		name, user, aud, amr string
	}{
		{"login", "alice", cogPoolID, `["authenticated","corp"]`},
		{"guest", "", cogPoolID + ":unauthenticated", `["unauthenticated"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logins map[string]string
			if tc.user != "" {
				logins = h.logins(tc.user)
			}
			id := h.mustID(cogPoolID, logins)
			body := map[string]any{"IdentityId": id}
			if logins != nil {
				body["Logins"] = logins
			}
			r := h.call("GetOpenIdToken", body)
			var out struct{ IdentityId, Token string }
			if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil {
				t.Fatalf("HTTP %d %s", r.status, r.body)
			}
			claims := h.verifyMinted(out.Token)
			exp, iat := claims["exp"].(float64), claims["iat"].(float64)
			if out.IdentityId != id || claims["sub"] != id || claims["aud"] != tc.aud || exp-iat != 600 {
				t.Errorf("token: sub %v aud %v lifetime %vs", claims["sub"], claims["aud"], exp-iat)
			}
			if amr, _ := json.Marshal(claims["amr"]); string(amr) != tc.amr {
				t.Errorf("amr = %s", amr)
			}
		})
	}
	if len(h.sts.WebIdentityCalls()) != 0 {
		t.Error("GetOpenIdToken called STS")
	}
}

// TestCognitoRefusalsStoreNothing: bad logins never create identities.
func TestCognitoRefusalsStoreNothing(t *testing.T) {
	h := newCogHarness(t)
	bad := []map[string]string{
		{h.idp.loginKey(): h.idp.token(t, "alice", cogWebClient, -time.Hour, nil)},
		{h.idp.loginKey(): h.idp.token(t, "alice", "other", time.Hour, nil)},
		{h.idp.loginKey(): "not-a-jwt"},
		{"accounts.google.com": h.token("alice")},
		{h.idp.loginKey(): h.token("alice"), "accounts.google.com": "x"},
	}
	for i, logins := range bad {
		if r := h.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": logins}); r.errorType() != cognito.ErrNotAuthorized {
			t.Errorf("case %d: %d %s", i, r.status, r.body)
		}
	}
	if n := h.identities(); n != 0 {
		t.Errorf("%d identities created by refused calls", n)
	}
}

// TestCognitoAttackIdentityTakeover: bob's valid token cannot get
// credentials or a token for alice's identity id.
func TestCognitoAttackIdentityTakeover(t *testing.T) {
	h := newCogHarness(t)
	alice := h.mustID(cogPoolID, h.logins("alice"))
	h.mustID(cogPoolID, h.logins("bob"))
	for _, op := range []string{"GetCredentialsForIdentity", "GetOpenIdToken"} {
		r := h.call(op, map[string]any{"IdentityId": alice, "Logins": h.logins("bob")})
		if r.errorType() != cognito.ErrNotAuthorized || !strings.Contains(string(r.body), "Access to Identity '"+alice+"' is forbidden.") {
			t.Errorf("%s: %s", op, r.body)
		}
	}
	if len(h.sts.WebIdentityCalls()) != 0 {
		t.Error("STS was called")
	}
}

// TestCognitoAttackForgedToken: a token signed by another key, with the
// right issuer, audience and subject, is refused.
func TestCognitoAttackForgedToken(t *testing.T) {
	h := newCogHarness(t)
	other := newCogIdP(t, h.clock.Now)
	forged := other.Sign("k1", map[string]any{"iss": h.idp.URL(), "sub": "alice", "aud": cogWebClient,
		"iat": cogFixedNow.Unix(), "exp": cogFixedNow.Add(time.Hour).Unix(), "groups": []string{"admins"}})
	r := h.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": map[string]string{h.idp.loginKey(): forged}})
	if r.errorType() != cognito.ErrNotAuthorized || !strings.Contains(string(r.body), "Invalid login token.") {
		t.Errorf("forged token: %s", r.body)
	}
}

// TestCognitoAttackIssuerKeyConfusion: a token of one issuer presented
// under another issuer's key is refused before verification, even when
// the claimed issuer is a provider of the same pool.
func TestCognitoAttackIssuerKeyConfusion(t *testing.T) {
	h := newCogHarness(t)
	token := h.idp.token(t, "alice", cogWebClient, time.Hour, map[string]any{"iss": "http://127.0.0.1:1"})
	r := h.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": map[string]string{h.idp.loginKey(): token}})
	if r.errorType() != cognito.ErrNotAuthorized || !strings.Contains(string(r.body), "Issuer doesn't match providerName") {
		t.Errorf("%s", r.body)
	}
}

// TestCognitoAttackGuestTakeover: a guest signed in by one person is
// theirs: another person's login with its id is refused, and the guest
// ids of a pool that no longer allows guests are not upgraded.
func TestCognitoAttackGuestTakeover(t *testing.T) {
	h := newCogHarness(t)
	guest := h.mustID(cogPoolID, nil)
	if r, _ := h.creds(guest, h.logins("carol"), ""); r.status != http.StatusOK {
		t.Fatalf("carol signing her guest in: %s", r.body)
	}
	calls := len(h.sts.WebIdentityCalls())
	if r, _ := h.creds(guest, h.logins("alice"), ""); r.errorType() != cognito.ErrNotAuthorized {
		t.Errorf("the former guest with alice's login: %s", r.body)
	}
	if r, _ := h.creds(guest, nil, ""); r.errorType() != cognito.ErrNotAuthorized {
		t.Errorf("the former guest without logins: %s", r.body)
	}
	if len(h.sts.WebIdentityCalls()) != calls {
		t.Error("STS was called")
	}
}

// TestCognitoAttackPoolByName: pool names are not identity pool ids here.
func TestCognitoAttackPoolByName(t *testing.T) {
	h := newCogHarness(t)
	if r := h.call("GetId", map[string]any{"IdentityPoolId": "mobile", "Logins": h.logins("alice")}); r.errorType() != cognito.ErrInvalidParameter {
		t.Errorf("pool by name: %s", r.body)
	}
}

// TestCognitoRateLimits: token buckets per source address and per
// identity, refilled by the injected clock.
func TestCognitoRateLimits(t *testing.T) {
	h := newCogHarness(t, func(f *config.File) {
		f.Cognito = config.Cognito{RatePerAddress: 1, BurstPerAddress: 3, RatePerIdentity: 1000, BurstPerIdentity: 1000}
	})
	post := func(addr string) cogResult {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"IdentityPoolId":"`+cogPoolID+`"}`))
		req.RemoteAddr = addr
		req.Header.Set("Content-Type", cognito.ContentType)
		req.Header.Set("X-Amz-Target", cognito.TargetPrefix+"GetId")
		// A client cannot escape its bucket by claiming another address.
		req.Header.Set("X-Forwarded-For", "203.0.113."+addr[len(addr)-1:])
		return h.do(req)
	}
	for i := range 3 {
		if r := post("192.0.2.1:1000"); r.status != http.StatusOK {
			t.Fatalf("call %d: %s", i, r.body)
		}
	}
	if r := post("192.0.2.1:1001"); r.errorType() != cognito.ErrTooManyRequests {
		t.Fatalf("4th call: %s", r.body)
	}
	if r := post("192.0.2.2:1000"); r.status != http.StatusOK {
		t.Errorf("another address was limited: %s", r.body)
	}
	h.clock.Advance(time.Second)
	if r := post("192.0.2.1:1000"); r.status != http.StatusOK {
		t.Errorf("after a second: %s", r.body)
	}
	n := h.identities()
	if r := post("192.0.2.1:1000"); r.errorType() != cognito.ErrTooManyRequests || h.identities() != n {
		t.Errorf("throttled call: %s, identities %d -> %d", r.body, n, h.identities())
	}
}

func TestCognitoRateLimitPerIdentity(t *testing.T) {
	h := newCogHarness(t, func(f *config.File) { f.Cognito.RatePerIdentity, f.Cognito.BurstPerIdentity = 0.5, 2 })
	id := h.mustID(cogPoolID, nil)
	other := h.mustID(cogPoolID, nil)
	for i, want := range []string{"", "", cognito.ErrTooManyRequests} {
		if r, _ := h.creds(id, nil, ""); r.errorType() != want {
			t.Fatalf("call %d: %s", i, r.body)
		}
	}
	if r, _ := h.creds(other, nil, ""); r.status != http.StatusOK {
		t.Errorf("another identity was limited: %s", r.body)
	}
	h.clock.Advance(2 * time.Second)
	if r, _ := h.creds(id, nil, ""); r.status != http.StatusOK {
		t.Errorf("after refill: %s", r.body)
	}
}

// A stranger who knows someone's identity id (the sub of every token fedgate
// mints) cannot lock its owner out by spending the identity's rate budget
// with calls that fail the ownership check.
func TestCognitoRateLimitNotSpentByStrangers(t *testing.T) {
	h := newCogHarness(t, func(f *config.File) { f.Cognito.RatePerIdentity, f.Cognito.BurstPerIdentity = 0.5, 2 })
	alice := h.logins("alice")
	id := h.mustID(cogPoolID, alice)
	for i := range 5 {
		if r, _ := h.creds(id, nil, ""); r.errorType() != cognito.ErrNotAuthorized {
			t.Fatalf("stranger's call %d: %s", i, r.body)
		}
	}
	if r, _ := h.creds(id, alice, ""); r.status != http.StatusOK {
		t.Fatalf("the owner was locked out by a stranger's refused calls: %s", r.body)
	}
}

// Behind a trusted load balancer the per-address limit is per client (the
// X-Forwarded-For it sets), not one bucket for everybody; from anyone else
// the header is ignored.
func TestCognitoRateLimitBehindTrustedProxy(t *testing.T) {
	h := newCogHarness(t, func(f *config.File) {
		f.Server.TrustedProxies = []string{"192.0.2.10"}
		f.Cognito = config.Cognito{RatePerAddress: 1, BurstPerAddress: 1, RatePerIdentity: 1000, BurstPerIdentity: 1000}
	})
	post := func(peer, forwarded string) cogResult {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"IdentityPoolId":"`+cogPoolID+`"}`))
		req.RemoteAddr = peer
		req.Header.Set("Content-Type", cognito.ContentType)
		req.Header.Set("X-Amz-Target", cognito.TargetPrefix+"GetId")
		req.Header.Set("X-Forwarded-For", forwarded)
		return h.do(req)
	}
	for _, client := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		if r := post("192.0.2.10:443", client); r.status != http.StatusOK {
			t.Errorf("client %s behind the proxy: %s", client, r.body)
		}
	}
	if r := post("192.0.2.10:443", "198.51.100.1"); r.errorType() != cognito.ErrTooManyRequests {
		t.Errorf("second call of one client behind the proxy: %s", r.body)
	}
	// An untrusted peer cannot pick a fresh bucket with the header.
	if r := post("192.0.2.20:1", "198.51.100.9"); r.status != http.StatusOK {
		t.Fatalf("first call from an untrusted peer: %s", r.body)
	}
	if r := post("192.0.2.20:1", "198.51.100.8"); r.errorType() != cognito.ErrTooManyRequests {
		t.Errorf("untrusted peer escaped its bucket with X-Forwarded-For: %s", r.body)
	}
}

// TestCognitoHeadersAndCORS: request ids on every answer, error types in
// the header, no caching, and the browser preflight.
func TestCognitoHeadersAndCORS(t *testing.T) {
	h := newCogHarness(t, func(f *config.File) { f.Cognito.Path = "/cognito" })
	req := httptest.NewRequest(http.MethodOptions, "/", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-target,x-amz-user-agent")
	r := h.do(req)
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "X-Amz-Target") {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
	for _, path := range []string{"/", "/cognito"} {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"IdentityPoolId":"`+cogPoolID+`"}`))
		req.Header.Set("Content-Type", cognito.ContentType)
		req.Header.Set("X-Amz-Target", cognito.TargetPrefix+"GetId")
		r := h.do(req)
		if r.status != http.StatusOK || r.header.Get("x-amzn-RequestId") == "" || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("POST %s: %d %s %v", path, r.status, r.body, r.header)
		}
	}
	// The HTML index still answers GET /.
	if r := h.do(httptest.NewRequest(http.MethodGet, "/", nil)); r.status != http.StatusOK || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: %d %s", r.status, r.header.Get("Content-Type"))
	}
}

// TestCognitoLogsNoSecrets: tokens and credentials never reach the log.
func TestCognitoLogsNoSecrets(t *testing.T) {
	h := newCogHarness(t)
	logins := h.logins("alice")
	id := h.mustID(cogPoolID, logins)
	_, out := h.creds(id, logins, "")
	r := h.call("GetOpenIdToken", map[string]any{"IdentityId": id, "Logins": logins})
	var tok struct{ Token string }
	_ = json.Unmarshal(r.body, &tok)
	expired := h.idp.token(t, "alice", cogWebClient, -time.Hour, nil)
	h.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": map[string]string{h.idp.loginKey(): expired}})
	logs := h.logs.String()
	for name, secret := range map[string]string{
		"upstream token": logins[h.idp.loginKey()], "expired token": expired, "secret key": out.Credentials.SecretKey,
		"session token": out.Credentials.SessionToken, "minted token": tok.Token,
	} {
		if secret == "" {
			t.Fatalf("%s is empty", name)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains the %s", name)
		}
	}
	if !strings.Contains(logs, `"error_type":"NotAuthorizedException"`) {
		t.Error("refusal not logged")
	}
}
