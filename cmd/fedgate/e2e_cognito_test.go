package main

// The Cognito Identity API end to end: three real AWS SDKs (the AWS SDK
// for Go, boto3, the JS SDK v3's fromCognitoIdentityPool) against the real
// binary, with a real upstream IdP (oidc-provider) and moto's STS, IAM and
// S3 with IAM enforcement.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"fedgate/cmd/fedgate/internal/peers"
)

const (
	poolMobileID = "us-east-1:7c1e5d2a-3b4f-4a6c-9d8e-2f1a0b3c4d5e"
	cognitoPath  = "/cognito"
)

// withCognitoPool adds pool "mobile" (guests with a list-only role, the
// classic flow, a department tag, two-hour credentials, two rules) and the
// cognito section.
func withCognitoPool(guestRole *string) envOption {
	return func(e *env) string {
		*guestRole = e.moto.CreateRole(e.t, "mobile-guest",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/fedgate"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-data"}]}`)
		return fmt.Sprintf(`  - id: %s
    name: mobile
    display_name: Mobile app
    providers: [corp]
    allow_guests: true
    unauthenticated_role: %s
    allow_classic_flow: true
    principal_tags: {department: department}
    duration_seconds: 7200
    resolution: all_matches
    rules:
      - name: engineers read
        match: [{claim: groups, op: equals, value: engineering}]
        role: %s
      - name: admins
        cel: '"admins" in claims.groups'
        role: %s
cognito:
  path: %s
  rate_per_address: 1000
  burst_per_address: 1000
  rate_per_identity: 1
  burst_per_identity: 20
`, poolMobileID, *guestRole, e.readerRole, e.adminRole, cognitoPath)
	}
}

// TestEndToEndCognito: GetId -> GetCredentialsForIdentity -> S3 through
// each SDK, guests, the classic flow, and every refusal an SDK must parse.
func TestEndToEndCognito(t *testing.T) {
	var guestRole string
	// The admin API token reads the audit log (e2e_gaps_test.go, cognitoAudit).
	e := startEnv(t, withCognitoPool(&guestRole), withAdmin)
	key := strings.TrimPrefix(e.idp.Issuer, "http://") // the Logins key of the loopback IdP
	alice := map[string]string{key: e.token("alice", e2eMobileClient, 10*time.Minute)}
	goSDK := cognitoSDK(e.url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	var aliceID, aliceSecret string
	t.Run("AWS SDK for Go: GetId, GetCredentialsForIdentity, S3", func(t *testing.T) {
		id, err := goSDK.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolMobileID), Logins: alice})
		if err != nil {
			t.Fatal(err)
		}
		aliceID = aws.ToString(id.IdentityId)
		out, err := goSDK.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId, Logins: alice})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.IdentityId) != aliceID {
			t.Errorf("IdentityId %s, want %s", aws.ToString(out.IdentityId), aliceID)
		}
		c := out.Credentials
		aliceSecret = aws.ToString(c.SecretKey)
		e.assertLeastPrivilege(peers.Creds(c.AccessKeyId, c.SecretKey, c.SessionToken))
		// The pool's two hours, not Cognito's one-hour cap.
		if left := time.Until(aws.ToTime(c.Expiration)); left < 110*time.Minute || left > 121*time.Minute {
			t.Errorf("credentials expire in %v, want the pool's 2h", left)
		}
		// What STS received: fedgate's token, verified by jose through
		// fedgate's discovery, with the identity, amr and the session tag
		// (moto records no session tags, so the token is the evidence).
		_, minted := e.tap.Snapshot()
		claims := peers.VerifyWithJose(t, e.url, poolMobileID, minted)
		if claims["sub"] != aliceID {
			t.Errorf("minted sub = %v, want %s", claims["sub"], aliceID)
		}
		if amr, _ := json.Marshal(claims["amr"]); string(amr) != `["authenticated","corp"]` {
			t.Errorf("minted amr = %s", amr)
		}
		if tags, _ := json.Marshal(claims["https://aws.amazon.com/tags"]); string(tags) != `{"principal_tags":{"department":["eng"]}}` {
			t.Errorf("session tags sent to STS = %s", tags)
		}
	})

	t.Run("AWS SDK for Go with an ID token from a real sign-in at the IdP", func(t *testing.T) {
		// The app's own sign-in: oidc-provider's login and consent pages,
		// then the code (with PKCE) redeemed at its token endpoint, as an
		// app's OIDC library would.
		idToken := appSignIn(ctx, t, e, "alice")
		logins := map[string]string{key: idToken}
		id, err := goSDK.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolMobileID), Logins: logins})
		if err != nil {
			t.Fatal(err)
		}
		if aliceID != "" && aws.ToString(id.IdentityId) != aliceID {
			t.Errorf("identity %s, want alice's %s", aws.ToString(id.IdentityId), aliceID)
		}
		out, err := goSDK.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId, Logins: logins})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		e.assertLeastPrivilege(peers.Creds(c.AccessKeyId, c.SecretKey, c.SessionToken))
	})

	t.Run("boto3: get_id, get_credentials_for_identity, S3", func(t *testing.T) {
		out := peers.RunBoto3(t, map[string]any{"endpoint": e.url, "region": "us-east-1", "pool": poolMobileID, "logins": alice})
		if out.IdentityID != aliceID {
			t.Errorf("boto3 got identity %s, the Go SDK %s", out.IdentityID, aliceID)
		}
		e.assertLeastPrivilege(out.Creds(t))
	})

	t.Run("JS SDK v3: fromCognitoIdentityPool, S3", func(t *testing.T) {
		out := peers.RunJS(t, map[string]any{"mode": "provider", "endpoint": e.url, "region": "us-east-1", "pool": poolMobileID, "logins": alice})
		if out.IdentityID != aliceID {
			t.Errorf("JS got identity %s, the Go SDK %s", out.IdentityID, aliceID)
		}
		e.assertLeastPrivilege(out.Creds(t))
	})

	t.Run("guests get the list-only role with the guest audience (boto3, JS)", func(t *testing.T) {
		plan := map[string]any{"mode": "provider", "endpoint": e.url, "region": "us-east-1", "pool": poolMobileID}
		for name, run := range map[string]func(testing.TB, map[string]any) peers.SDKResult{"boto3": peers.RunBoto3, "js": peers.RunJS} {
			out := run(t, plan)
			if out.IdentityID == "" || out.IdentityID == aliceID {
				t.Fatalf("%s: guest identity %q", name, out.IdentityID)
			}
			e.assertGuestOnly(out.Creds(t))
			_, minted := e.tap.Snapshot()
			claims := peers.VerifyWithJose(t, e.url, poolMobileID+":unauthenticated", minted)
			if amr, _ := json.Marshal(claims["amr"]); claims["sub"] != out.IdentityID || string(amr) != `["unauthenticated"]` {
				t.Errorf("%s: guest token sub %v amr %s", name, claims["sub"], amr)
			}
		}
	})

	t.Run("CustomRoleArn picks among granted roles only (JS client)", func(t *testing.T) {
		carol := map[string]string{key: e.token("carol", e2eMobileClient, 10*time.Minute)}
		out := peers.RunJS(t, map[string]any{"mode": "client", "endpoint": e.url, "region": "us-east-1", "pool": poolMobileID, "logins": carol, "custom_role_arn": e.adminRole})
		e.moto.CheckS3(t, out.Creds(t), peers.Writes(otherBucket, "by-admin.txt")) // the admin role's
		// Without CustomRoleArn carol's two grants resolve to the first.
		out = peers.RunJS(t, map[string]any{"mode": "client", "endpoint": e.url, "region": "us-east-1", "pool": poolMobileID, "logins": carol})
		e.assertLeastPrivilege(out.Creds(t))
		refused := peers.RunJS(t, map[string]any{"mode": "client", "endpoint": e.url, "region": "us-east-1", "pool": poolMobileID, "logins": alice, "custom_role_arn": e.adminRole})
		if refused.Error == nil || refused.Error.Name != "NotAuthorizedException" {
			t.Errorf("alice asking for the admin role: %+v", refused)
		}
	})

	t.Run("GetOpenIdToken: the app's own AssumeRoleWithWebIdentity (basic flow)", func(t *testing.T) {
		out := peers.RunBoto3(t, map[string]any{"op": "open_id_token", "endpoint": e.url, "region": "us-east-1", "pool": poolMobileID, "logins": alice})
		claims := peers.VerifyWithJose(t, e.url, poolMobileID, out.Token)
		if claims["sub"] != aliceID || claims["exp"].(float64)-claims["iat"].(float64) != 600 {
			t.Errorf("open id token: sub %v, lifetime %vs", claims["sub"], claims["exp"].(float64)-claims["iat"].(float64))
		}
		res, err := e.moto.UnsignedSTS().AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(e.readerRole), RoleSessionName: aws.String("app"), WebIdentityToken: aws.String(out.Token)})
		if err != nil {
			t.Fatal(err)
		}
		e.assertLeastPrivilege(peers.Creds(res.Credentials.AccessKeyId, res.Credentials.SecretAccessKey, res.Credentials.SessionToken))
	})

	t.Run("the configured path answers too", func(t *testing.T) {
		id, err := cognitoSDK(e.url+cognitoPath).GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolMobileID), Logins: alice})
		if err != nil || aws.ToString(id.IdentityId) != aliceID {
			t.Errorf("GetId at %s: %v %v", cognitoPath, aws.ToString(id.IdentityId), err)
		}
	})

	t.Run("refusals, as each SDK parses them", func(t *testing.T) {
		bob := map[string]string{key: e.token("bob", e2eMobileClient, 10*time.Minute)}
		eleven := map[string]string{}
		for i := range 11 {
			eleven[fmt.Sprintf("idp%d.example.com", i)] = "token"
		}
		cases := []struct {
			name, wantType, wantMessage string
			plan                        map[string]any
		}{
			{"expired token", "NotAuthorizedException", "Invalid login token. Token expired.",
				map[string]any{"pool": poolMobileID, "logins": map[string]string{key: e.token("alice", e2eMobileClient, -10*time.Minute)}}},
			{"token for another client", "NotAuthorizedException", "Invalid login token. Incorrect token audience.",
				map[string]any{"pool": poolMobileID, "logins": map[string]string{key: e.idp.MintIDToken(t, "alice", "someone-else", nil, 10*time.Minute)}}},
			{"issuer/key mismatch", "NotAuthorizedException", "Invalid login token. Issuer doesn't match providerName",
				map[string]any{"pool": poolMobileID, "logins": map[string]string{key: e.idp.MintIDToken(t, "alice", e2eMobileClient, map[string]any{"iss": "https://accounts.example.org"}, 10*time.Minute)}}},
			{"key of no provider of the pool", "NotAuthorizedException", "Token is not from a supported provider of this identity pool.",
				map[string]any{"pool": poolMobileID, "logins": map[string]string{"accounts.google.com": alice[key]}}},
			{"identity of another user", "NotAuthorizedException", "Access to Identity '" + aliceID + "' is forbidden.",
				map[string]any{"pool": poolMobileID, "identity_id": aliceID, "logins": bob}},
			{"unknown pool", "ResourceNotFoundException", "IdentityPool 'us-east-1:00000000-0000-4000-8000-000000000000' not found.",
				map[string]any{"pool": "us-east-1:00000000-0000-4000-8000-000000000000", "logins": alice}},
			{"guests where the pool has none", "NotAuthorizedException", "Unauthenticated access is not supported for this identity pool.",
				map[string]any{"pool": poolGatewayID}},
			{"CustomRoleArn not entitled", "NotAuthorizedException", "",
				map[string]any{"pool": poolMobileID, "logins": alice, "custom_role_arn": e.adminRole}},
			{"11 logins", "InvalidParameterException", "1 validation error detected: Value at 'logins' failed to satisfy constraint: Member must have length less than or equal to 10",
				map[string]any{"pool": poolMobileID, "logins": eleven}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				w := e.watchVends()
				tc.plan["endpoint"], tc.plan["region"] = e.url, "us-east-1"
				py := peers.RunBoto3(t, tc.plan)
				if py.Error == nil || py.Error.Code != tc.wantType || py.Error.Status != 400 || (tc.wantMessage != "" && py.Error.Message != tc.wantMessage) {
					t.Errorf("boto3: %+v, want %s %q", py.Error, tc.wantType, tc.wantMessage)
				}
				tc.plan["mode"] = "client"
				js := peers.RunJS(t, tc.plan)
				if js.Error == nil || js.Error.Name != tc.wantType || js.Error.Status != 400 {
					t.Errorf("JS: %+v, want %s", js.Error, tc.wantType)
				}
				w.none(t, "a refusal")
			})
		}
		// The Go SDK parses the same answers into its modelled types.
		_, err := goSDK.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(aliceID), Logins: bob})
		var na *citypes.NotAuthorizedException
		if !errors.As(err, &na) {
			t.Errorf("Go SDK: %v, want NotAuthorizedException", err)
		}
	})

	t.Run("oversized body and unknown operation", func(t *testing.T) {
		big := `{"IdentityPoolId":"` + poolMobileID + `","Logins":{"x":"` + strings.Repeat("a", 700<<10) + `"}}`
		for _, tc := range []struct{ name, target, body, want string }{
			{"oversized", "AWSCognitoIdentityService.GetId", big, "InvalidParameterException"},
			{"no target", "", `{}`, "UnknownOperationException"},
		} {
			r := postCognito(t, e.url, tc.target, tc.body)
			if r.status != 400 || r.header.Get("x-amzn-ErrorType") != tc.want || !strings.Contains(r.body, `"__type":"`+tc.want+`"`) {
				t.Errorf("%s: HTTP %d %s %s", tc.name, r.status, r.header.Get("x-amzn-ErrorType"), r.body)
			}
		}
	})

	t.Run("rate limit per identity", func(t *testing.T) {
		guest, err := goSDK.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolMobileID)})
		if err != nil {
			t.Fatal(err)
		}
		body := `{"IdentityId":"` + aws.ToString(guest.IdentityId) + `"}`
		for i := range 40 {
			r := postCognito(t, e.url, "AWSCognitoIdentityService.GetOpenIdToken", body)
			if r.header.Get("x-amzn-ErrorType") == "TooManyRequestsException" {
				if i < 15 || r.status != 400 {
					t.Errorf("throttled after %d calls with HTTP %d (burst 20)", i, r.status)
				}
				return
			}
			if r.status != 200 {
				t.Fatalf("call %d: HTTP %d %s", i, r.status, r.body)
			}
		}
		t.Error("40 quick calls for one identity were never throttled")
	})

	t.Run("guest vends and Cognito refusals are audited and counted", func(t *testing.T) { e.cognitoAudit(t, guestRole) }) // e2e_gaps_test.go

	t.Run("the log holds no token or credential", func(t *testing.T) {
		logs := e.logs.String()
		if aliceSecret == "" || strings.Contains(logs, alice[key]) || strings.Contains(logs, aliceSecret) {
			t.Error("fedgate logged a token or a secret")
		}
		if !strings.Contains(logs, `"error_type":"NotAuthorizedException"`) {
			t.Error("refusals are not logged")
		}
	})
}

// appSignIn signs user in through oidc-provider's pages (authorization
// code + PKCE S256 + nonce) as the web client registered there, and
// redeems the code at the IdP's token endpoint; it returns the IdP-issued
// ID token. (The mobile client's custom-scheme redirect is registered for
// minted tokens only; oidc-provider takes it for native apps alone.)
func appSignIn(ctx context.Context, t *testing.T, e *env, user string) string {
	t.Helper()
	provider, err := oidc.NewProvider(ctx, e.idp.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{ClientID: e2eClientID, ClientSecret: e2eClientSecret, RedirectURL: e.url + "/callback",
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email", "groups"}}
	state, nonce, verifier := "st-"+user, "n-"+user, oauth2.GenerateVerifier()
	callback := e.idp.Login(t, browser(t), conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), user)
	if callback.Query().Get("state") != state {
		t.Fatalf("callback state %q", callback.Query().Get("state"))
	}
	tok, err := conf.Exchange(ctx, callback.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	if idToken == "" {
		t.Fatal("the token endpoint returned no id_token")
	}
	return idToken
}

// assertGuestOnly: the guest role lists the team bucket and nothing more.
func (e *env) assertGuestOnly(creds aws.Credentials) {
	e.t.Helper()
	e.moto.CheckS3(e.t, creds, peers.Lists(teamBucket), peers.Denied(peers.Reads(teamBucket, "report.txt")), peers.Denied(peers.Lists(otherBucket)))
}

// cognitoSDK is the AWS SDK for Go's Cognito Identity client for fedgate
// at endpoint; it does not retry, so each refusal reaches the test.
func cognitoSDK(endpoint string) *cognitoidentity.Client {
	return cognitoidentity.New(cognitoidentity.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1})
}

// postCognito calls fedgate's Cognito Identity API at baseURL the way the
// SDKs do (target is the X-Amz-Target header; empty: none).
func postCognito(t *testing.T, baseURL, target, body string) response {
	t.Helper()
	return send(t, nil, http.MethodPost, baseURL+"/", body, "Content-Type", "application/x-amz-json-1.1", "X-Amz-Target", target)
}
