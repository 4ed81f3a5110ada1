package main

// Linked logins and pool management end to end against the real binary:
// the JS SDK v3 links a second provider's login to an identity, vends
// with either, unlinks one; the AWS SDK for Go, signed with fedgate
// access keys, manages the pool, its principal tags and its identities.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/smithy-go"

	"fedgate/cmd/fedgate/internal/peers"
)

const poolLinkedID = "us-east-1:5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"

// linkEnv is fedgate with two real OIDC IdPs (oidc-provider twice), corp
// and partner, both providers of pool "linked".
type linkEnv struct {
	*env
	partner  *peers.OIDC
	corpKey  string
	partnerK string
}

func startLinkEnv(t *testing.T) *linkEnv {
	t.Helper()
	e := newEnv(t, teamAccountTrust)
	mobile := peers.OIDCClient{ID: e2eMobileClient, RedirectURIs: []string{"com.example.app:/callback"}}
	cfg := e.startCorpIdP(mobile)
	partner := peers.StartOIDC(t, []peers.OIDCClient{mobile})
	cfg += fmt.Sprintf(`    extra_audiences: [%s]
  - id: partner
    type: oidc
    display_name: Partner SSO
    issuer: %s
    client_id: %s
pools:
  - id: %s
    name: linked
    display_name: Linked app
    providers: [corp, partner]
    principal_tags: {department: department}
%s
`, e2eMobileClient, partner.Issuer, e2eMobileClient, poolLinkedID, readersRule(e.readerRole)) + e.adminToken("owner")
	e.serve(cfg)
	return &linkEnv{env: e, partner: partner, corpKey: strings.TrimPrefix(e.idp.Issuer, "http://"), partnerK: strings.TrimPrefix(partner.Issuer, "http://")}
}

// partnerToken is alice's ID token at the partner IdP, with the claims
// corp gives her.
func (e *linkEnv) partnerToken(user string) string {
	return e.partner.MintIDToken(e.t, user, e2eMobileClient,
		map[string]any{"email": user + "@example.com", "groups": []string{"engineering", "s3-readers"}, "department": "eng"}, 10*time.Minute)
}

func TestEndToEndCognitoLinkingWithJSSDK(t *testing.T) {
	e := startLinkEnv(t)
	out := peers.RunJSLink(t, map[string]any{"endpoint": e.url, "region": "us-east-1", "pool": poolLinkedID,
		"first":  map[string]string{e.corpKey: e.token("alice", e2eMobileClient, 10*time.Minute)},
		"second": map[string]string{e.partnerK: e.partnerToken("alice")}})
	step := func(name string) peers.SDKResult {
		t.Helper()
		r, ok := out.Steps[name]
		if !ok {
			t.Fatalf("the app did not reach %s: %+v", name, out.Steps)
		}
		return r
	}
	for _, name := range []string{"get_id_first", "get_id_both", "vend_first", "vend_second", "unlink_second", "vend_first_after_unlink", "vend_second_after_unlink"} {
		if r := step(name); r.Error != nil {
			t.Fatalf("%s: %+v", name, r.Error)
		}
	}
	alice := step("get_id_first").IdentityID
	for _, name := range []string{"get_id_both", "vend_first", "vend_second", "vend_first_after_unlink"} {
		if got := step(name).IdentityID; got != alice {
			t.Errorf("%s: identity %s, want the first login's %s", name, got, alice)
		}
	}
	// Each vend is the pool's reader role on moto, either login.
	for _, name := range []string{"vend_first", "vend_second", "vend_first_after_unlink"} {
		e.moto.CheckS3(t, step(name).Creds(t), peers.Lists(teamBucket), peers.Denied(peers.Lists(otherBucket)))
	}
	if r := step("second_on_old_identity"); r.Error == nil || r.Error.Name != "NotAuthorizedException" {
		t.Errorf("the unlinked login on alice's identity: %+v, want NotAuthorizedException", r.Error)
	}
	if got := step("vend_second_after_unlink").IdentityID; got == "" || got == alice {
		t.Errorf("the unlinked login signs in to %q, want an identity of its own", got)
	}
	var linked, unlinked int
	for _, c := range e.audit(t, "kind=admin_change&limit=50") {
		if c.IdentityID == alice && strings.HasPrefix(c.Reason, "login linked") {
			linked++
		}
		if c.IdentityID == alice && strings.HasPrefix(c.Reason, "login unlinked") {
			unlinked++
		}
	}
	if linked != 1 || unlinked != 1 {
		t.Errorf("audit: %d links and %d unlinks of alice's identity, want 1 each", linked, unlinked)
	}
}

// signedGoSDK is the AWS SDK for Go's client signing with a fedgate key.
func signedGoSDK(endpoint, id, secret string) *cognitoidentity.Client {
	return cognitoidentity.New(cognitoidentity.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
}

func wantAPIError(t *testing.T, what string, err error, code, inMessage string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != code || !strings.Contains(api.ErrorMessage(), inMessage) {
		t.Errorf("%s: %v, want %s saying %q", what, err, code, inMessage)
	}
}

func TestEndToEndCognitoManagementWithGoSDK(t *testing.T) {
	e := startLinkEnv(t)
	ctx := context.Background()
	editorID, editorSecret := e.accessKey("go-backend", "editor")
	viewerID, viewerSecret := e.accessKey("go-dashboards", "viewer")
	editor, viewer := signedGoSDK(e.url, editorID, editorSecret), signedGoSDK(e.url, viewerID, viewerSecret)
	app := cognitoSDK(e.url)

	pools, err := viewer.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(10)})
	if err != nil || len(pools.IdentityPools) != 1 || aws.ToString(pools.IdentityPools[0].IdentityPoolId) != poolLinkedID ||
		aws.ToString(pools.IdentityPools[0].IdentityPoolName) != "Linked app" {
		t.Fatalf("ListIdentityPools = %+v, %v", pools, err)
	}
	d, err := viewer.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(poolLinkedID)})
	if err != nil || d.SupportedLoginProviders[e.corpKey] == "" || d.SupportedLoginProviders[e.partnerK] == "" {
		t.Fatalf("DescribeIdentityPool = %+v, %v; want both providers' login keys", d, err)
	}

	// The principal tags: a viewer cannot change them, an editor can, and
	// the next vend carries the new ones to STS.
	set := &cognitoidentity.SetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(poolLinkedID), IdentityProviderName: aws.String(e.partnerK),
		PrincipalTags: map[string]string{"team": "department", "mail": "email"}}
	_, err = viewer.SetPrincipalTagAttributeMap(ctx, set)
	wantAPIError(t, "a viewer's SetPrincipalTagAttributeMap", err, "AccessDeniedException", "needs editor")
	if _, err := editor.SetPrincipalTagAttributeMap(ctx, set); err != nil {
		t.Fatalf("SetPrincipalTagAttributeMap: %v", err)
	}
	got, err := viewer.GetPrincipalTagAttributeMap(ctx, &cognitoidentity.GetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(poolLinkedID),
		IdentityProviderName: aws.String(e.corpKey)})
	if err != nil || len(got.PrincipalTags) != 2 || got.PrincipalTags["team"] != "department" || got.PrincipalTags["mail"] != "email" || aws.ToBool(got.UseDefaults) {
		t.Fatalf("GetPrincipalTagAttributeMap (the pool's, for either provider) = %+v, %v", got, err)
	}
	alice := map[string]string{e.corpKey: e.token("alice", e2eMobileClient, 10*time.Minute)}
	id, err := app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolLinkedID), Logins: alice})
	if err != nil {
		t.Fatal(err)
	}
	// The configuration reaches the serving snapshot within a reload.
	var tags []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		creds, err := app.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId, Logins: alice})
		if err != nil {
			t.Fatalf("GetCredentialsForIdentity: %v", err)
		}
		_, minted := e.tap.Snapshot()
		tags, _ = json.Marshal(peers.VerifyWithJose(t, e.url, poolLinkedID, minted)["https://aws.amazon.com/tags"])
		if string(tags) == `{"principal_tags":{"mail":["alice@example.com"],"team":["eng"]}}` {
			e.moto.CheckS3(t, peers.Creds(creds.Credentials.AccessKeyId, creds.Credentials.SecretKey, creds.Credentials.SessionToken), peers.Lists(teamBucket))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("session tags sent to STS = %s, want the new mapping", tags)
		}
	}

	// Tags: refused with the reason; none listed; untagging succeeds.
	arn := "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/" + poolLinkedID
	_, err = editor.TagResource(ctx, &cognitoidentity.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"team": "web"}})
	wantAPIError(t, "TagResource", err, "InvalidParameterException", "do not take tags")
	if lt, err := viewer.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: aws.String(arn)}); err != nil || len(lt.Tags) != 0 {
		t.Errorf("ListTagsForResource = %+v, %v", lt, err)
	}
	if _, err := editor.UntagResource(ctx, &cognitoidentity.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Errorf("UntagResource: %v", err)
	}

	// Identities: listed, deleted, gone.
	list, err := viewer.ListIdentities(ctx, &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(poolLinkedID), MaxResults: aws.Int32(60)})
	if err != nil || len(list.Identities) != 1 || aws.ToString(list.Identities[0].IdentityId) != aws.ToString(id.IdentityId) {
		t.Fatalf("ListIdentities = %+v, %v", list, err)
	}
	del, err := editor.DeleteIdentities(ctx, &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: []string{aws.ToString(id.IdentityId)}})
	if err != nil || len(del.UnprocessedIdentityIds) != 0 {
		t.Fatalf("DeleteIdentities = %+v, %v", del, err)
	}
	if list, err := viewer.ListIdentities(ctx, &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(poolLinkedID), MaxResults: aws.Int32(60)}); err != nil || len(list.Identities) != 0 {
		t.Errorf("ListIdentities after the delete = %+v, %v", list, err)
	}

	count := map[string]int{}
	for _, u := range e.audit(t, "kind=access_key&limit=100") {
		count[u.Actor+" "+u.Result+" "+u.Reason]++
	}
	for _, line := range []string{
		"access-key:" + viewerID + " refused SetPrincipalTagAttributeMap: AccessDeniedException",
		"access-key:" + editorID + " ok SetPrincipalTagAttributeMap",
		"access-key:" + editorID + " refused TagResource: InvalidParameterException",
		"access-key:" + editorID + " ok UntagResource",
		"access-key:" + editorID + " ok DeleteIdentities",
	} {
		if count[line] != 1 {
			t.Errorf("audit has %d × %q, want 1", count[line], line)
		}
	}
	var versioned bool
	for _, c := range e.audit(t, "kind=admin_change&limit=50") {
		versioned = versioned || (c.Actor == "access-key:"+editorID && c.Version > 0 && strings.Contains(c.Reason, "SetPrincipalTagAttributeMap"))
	}
	if !versioned {
		t.Error("no configuration version by the editor's key for SetPrincipalTagAttributeMap in the audit log")
	}
}
