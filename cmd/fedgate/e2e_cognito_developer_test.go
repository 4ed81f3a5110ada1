package main

// Developer-authenticated identities end to end: a boto3 backend signs
// GetOpenIdTokenForDeveloperIdentity with a fedgate access key, the app
// (boto3, the JS SDK v3) presents the token as the login
// cognito-identity.amazonaws.com, and the credentials work on moto with
// least privilege.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"fedgate/cmd/fedgate/internal/peers"
)

const (
	e2eDevProvider = "login.example.backend"
	// poolOtherDevID has only a developer provider, of the same name.
	poolOtherDevID = "us-east-1:5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
)

// withDeveloperPool is withCognitoPool whose pool has a developer
// provider, and a second pool with only a developer provider of the same
// name (its tokens must not open the first pool's identities).
func withDeveloperPool(guestRole *string) envOption {
	return func(e *env) string {
		cfg := strings.Replace(withCognitoPool(guestRole)(e), "    allow_classic_flow: true\n",
			"    allow_classic_flow: true\n    developer_provider_name: "+e2eDevProvider+"\n", 1)
		other := fmt.Sprintf(`  - id: %s
    name: other-backend
    providers: []
    developer_provider_name: %s
    rules:
      - name: engineers read
        match: [{claim: groups, op: equals, value: engineering}]
        role: %s
`, poolOtherDevID, e2eDevProvider, e.readerRole)
		return strings.Replace(cfg, "cognito:\n", other+"cognito:\n", 1)
	}
}

func TestEndToEndCognitoDeveloperIdentities(t *testing.T) {
	var guestRole string
	e := startEnv(t, withDeveloperPool(&guestRole), withAdmin)
	editorID, editorSecret := e.accessKey("backend", "editor", "--pool", poolMobileID)
	viewerID, viewerSecret := e.accessKey("support", "viewer")
	backend := func(id, secret string, plan map[string]any) peers.SDKResult {
		if plan["pool"] == nil {
			plan["pool"] = poolMobileID
		}
		plan["endpoint"], plan["region"], plan["access_key_id"], plan["secret_access_key"] = e.url, "us-east-1", id, secret
		return peers.RunBoto3Backend(t, plan)
	}
	// The backend signed its user in; the user is an engineer of team eng.
	engineer := map[string]any{"logins": map[string]string{e2eDevProvider: "user-42"},
		"principal_tags": map[string]string{"groups": "engineering", "department": "eng"}, "token_duration": 600}

	var identityID, token string
	t.Run("boto3 backend: get_open_id_token_for_developer_identity with an access key", func(t *testing.T) {
		out := backend(editorID, editorSecret, engineer)
		if out.Error != nil || out.Token == "" || !strings.HasPrefix(out.IdentityID, "us-east-1:") {
			t.Fatalf("backend: %+v", out)
		}
		identityID, token = out.IdentityID, out.Token
		claims := peers.VerifyWithJose(t, e.url, poolMobileID, token)
		if amr, _ := json.Marshal(claims["amr"]); claims["sub"] != identityID ||
			string(amr) != `["authenticated","`+e2eDevProvider+`","`+e2eDevProvider+`:`+poolMobileID+`:user-42"]` ||
			claims["exp"].(float64)-claims["iat"].(float64) != 600 {
			t.Errorf("token: sub %v amr %s lifetime %v", claims["sub"], amr, claims["exp"].(float64)-claims["iat"].(float64))
		}
		if again := backend(editorID, editorSecret, engineer); again.IdentityID != identityID {
			t.Errorf("the same user got identity %s, then %s", identityID, again.IdentityID)
		}
		looked := backend(viewerID, viewerSecret, map[string]any{"op": "lookup", "developer_user": "user-42"})
		if looked.IdentityID != identityID || len(looked.DeveloperUsers) != 1 || looked.DeveloperUsers[0] != "user-42" {
			t.Errorf("a viewer's lookup_developer_identity: %+v", looked)
		}
	})
	if token == "" {
		t.FailNow()
	}

	t.Run("boto3 app: get_credentials_for_identity with the token, S3 with least privilege", func(t *testing.T) {
		out := peers.RunBoto3(t, map[string]any{"endpoint": e.url, "region": "us-east-1", "pool": poolMobileID, "identity_id": identityID,
			"logins": map[string]string{"cognito-identity.amazonaws.com": token}})
		if out.IdentityID != identityID {
			t.Fatalf("boto3 app: %+v", out)
		}
		e.assertLeastPrivilege(out.Creds(t))
		// The rules and the session tags saw the developer login's claims.
		_, minted := e.tap.Snapshot()
		claims := peers.VerifyWithJose(t, e.url, poolMobileID, minted)
		if tags, _ := json.Marshal(claims["https://aws.amazon.com/tags"]); claims["sub"] != identityID || string(tags) != `{"principal_tags":{"department":["eng"]}}` {
			t.Errorf("STS token: sub %v tags %s", claims["sub"], tags)
		}
	})

	t.Run("JS SDK v3: fromCognitoIdentity and fromCognitoIdentityPool with the token", func(t *testing.T) {
		logins := map[string]string{"cognito-identity.amazonaws.com": token}
		for _, mode := range []string{"identity", "provider"} {
			out := peers.RunJS(t, map[string]any{"mode": mode, "endpoint": e.url, "region": "us-east-1", "pool": poolMobileID, "identity_id": identityID, "logins": logins})
			if out.IdentityID != identityID {
				t.Fatalf("%s: %+v", mode, out)
			}
			e.assertLeastPrivilege(out.Creds(t))
		}
	})

	t.Run("refusals", func(t *testing.T) {
		ctx := context.Background()
		app := cognitoSDK(e.url)
		creds := func(tok string) error {
			_, err := app.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(identityID),
				Logins: map[string]string{"cognito-identity.amazonaws.com": tok}})
			return err
		}
		// A token whose payload was rewritten (admins) keeps the old signature.
		parts := strings.Split(token, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "engineering", "admins\u0000", 1))) + "." + parts[2]
		// A token for a user of another pool: the gateway pool has no
		// developer provider, so GetOpenIdToken's token of alice there.
		key := strings.TrimPrefix(e.idp.Issuer, "http://")
		alice := map[string]string{key: e.token("alice", e2eMobileClient, 10*time.Minute)}
		aliceID, err := app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolMobileID), Logins: alice})
		if err != nil {
			t.Fatal(err)
		}
		classic, err := app.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: aliceID.IdentityId, Logins: alice})
		if err != nil {
			t.Fatal(err)
		}
		// The same user of the same provider name, in another pool.
		allPools, allSecret := e.accessKey("all-pools", "editor")
		otherPool := backend(allPools, allSecret, map[string]any{"pool": poolOtherDevID, "logins": map[string]string{e2eDevProvider: "user-42"},
			"principal_tags": map[string]string{"groups": "engineering"}})
		if otherPool.Error != nil || otherPool.Token == "" {
			t.Fatalf("backend in the other pool: %+v", otherPool)
		}
		for name, tok := range map[string]string{"forged": forged, "a GetOpenIdToken token": aws.ToString(classic.Token), "garbage": "not-a-token",
			"another pool's token": otherPool.Token} {
			if err := creds(tok); err == nil || !strings.Contains(err.Error(), "NotAuthorizedException") {
				t.Errorf("%s: %v", name, err)
			}
		}
		wrong := backend(editorID, editorSecret, map[string]any{"logins": map[string]string{"login.other.backend": "user-42"}})
		if wrong.Error == nil || wrong.Error.Code != "InvalidParameterException" {
			t.Errorf("wrong developer provider name: %+v", wrong)
		}
		tooLong := backend(editorID, editorSecret, map[string]any{"logins": map[string]string{e2eDevProvider: "user-42"}, "token_duration": 3600})
		if tooLong.Error == nil || tooLong.Error.Code != "InvalidParameterException" {
			t.Errorf("TokenDuration past fedgate's cap: %+v", tooLong)
		}
		viewer := backend(viewerID, viewerSecret, engineer)
		if viewer.Error == nil || viewer.Error.Code != "AccessDeniedException" {
			t.Errorf("a viewer's key: %+v", viewer)
		}
	})

	t.Run("every use is audited", func(t *testing.T) {
		count := map[string]int{}
		for _, u := range e.audit(t, "kind=access_key&limit=200") {
			count[u.Actor+" "+u.Result+" "+u.Reason]++
		}
		for line, n := range map[string]int{
			"access-key:" + editorID + " ok GetOpenIdTokenForDeveloperIdentity":                                 2,
			"access-key:" + editorID + " refused GetOpenIdTokenForDeveloperIdentity: InvalidParameterException": 2,
			"access-key:" + viewerID + " ok LookupDeveloperIdentity":                                            1,
			"access-key:" + viewerID + " refused GetOpenIdTokenForDeveloperIdentity: AccessDeniedException":     1,
		} {
			if count[line] != n {
				t.Errorf("audit has %d × %q, want %d", count[line], line, n)
			}
		}
		var issued, vended, refused, linked int
		for _, v := range e.audit(t, "kind=vend&limit=200") {
			switch {
			case v.Provider == "cognito:developer" && strings.HasPrefix(v.Reason, "developer identity token"):
				issued++
			case v.Provider == "cognito:developer" && v.Result == "ok" && v.IdentityID == identityID:
				vended++
			case v.Result == "refused" && strings.Contains(v.Reason, "NotAuthorizedException"):
				refused++
			}
		}
		for _, c := range e.audit(t, "kind=admin_change&limit=200") {
			if c.Actor == "access-key:"+editorID && c.IdentityID == identityID && c.Provider == "cognito:developer" {
				linked++
			}
		}
		if issued != 3 || vended != 3 || refused < 4 || linked != 1 {
			t.Errorf("audit: %d tokens issued, %d vends, %d refusals, %d links; want 3, 3, at least 4, 1", issued, vended, refused, linked)
		}
	})
}
