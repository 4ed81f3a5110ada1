package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"fedgate/gateway/cognito"
	"fedgate/gateway/store"
)

// vendTags vends for alice in the mobile pool and returns the session
// tags fedgate put in the token it handed STS.
func (h *cogHarness) vendTags(id string) string {
	h.t.Helper()
	if r, _ := h.creds(id, h.logins("alice"), ""); r.status != http.StatusOK {
		h.t.Fatalf("vend: HTTP %d %s", r.status, r.body)
	}
	tags, _ := json.Marshal(h.verifyMinted(h.sts.LastWebIdentity(h.t).Token)["https://aws.amazon.com/tags"])
	return string(tags)
}

// SetPrincipalTagAttributeMap writes the pool's principal tags: the next
// GetPrincipalTagAttributeMap reads them, the next vend carries them, the
// change is a configuration version by the key, audited; UseDefaults is
// Cognito's username/client mapping; no tags clears them. A viewer's key
// changes nothing.
func TestCognitoSetPrincipalTagAttributeMap(t *testing.T) {
	h := newCogHarness(t)
	ctx := context.Background()
	key := h.idp.loginKey()
	editorID, editorSecret := h.accessKey("editor", "")
	editor, _ := h.signedSDK(editorID, editorSecret, 0)
	viewerID, viewerSecret := h.accessKey("viewer", "")
	viewer, _ := h.signedSDK(viewerID, viewerSecret, 0)
	alice := h.mustID(cogPoolID, h.logins("alice"))
	if got := h.vendTags(alice); got != `{"principal_tags":{"department":["eng"]}}` {
		t.Fatalf("tags before = %s", got)
	}
	get := func() *cognitoidentity.GetPrincipalTagAttributeMapOutput {
		t.Helper()
		out, err := viewer.GetPrincipalTagAttributeMap(ctx, &cognitoidentity.GetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(cogPoolID), IdentityProviderName: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	_, err := viewer.SetPrincipalTagAttributeMap(ctx, &cognitoidentity.SetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(cogPoolID),
		IdentityProviderName: aws.String(key), PrincipalTags: map[string]string{"mail": "email"}})
	checkSignedError(t, err, cognito.ErrAccessDenied)
	if got := get().PrincipalTags; len(got) != 1 || got["department"] != "department" {
		t.Fatalf("a viewer's refused set changed the tags: %v", got)
	}

	custom := map[string]string{"mail": "email", "team": "department"}
	set, err := editor.SetPrincipalTagAttributeMap(ctx, &cognitoidentity.SetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(cogPoolID),
		IdentityProviderName: aws.String(key), UseDefaults: aws.Bool(false), PrincipalTags: custom})
	if err != nil || aws.ToString(set.IdentityPoolId) != cogPoolID || aws.ToString(set.IdentityProviderName) != key || aws.ToBool(set.UseDefaults) || len(set.PrincipalTags) != 2 {
		t.Fatalf("SetPrincipalTagAttributeMap = %+v, %v", set, err)
	}
	if got := get(); aws.ToBool(got.UseDefaults) || len(got.PrincipalTags) != 2 || got.PrincipalTags["mail"] != "email" || got.PrincipalTags["team"] != "department" {
		t.Fatalf("Get after Set = %+v", got)
	}
	if got := h.vendTags(alice); got != `{"principal_tags":{"mail":["alice@example.com"],"team":["eng"]}}` {
		t.Errorf("tags of the next vend = %s", got)
	}
	versions, err := h.store.ListConfigs(ctx, 0, 5)
	if err != nil || versions[0].Author != "access-key:"+editorID || !strings.Contains(versions[0].Comment, "SetPrincipalTagAttributeMap") {
		t.Fatalf("history: %+v, %v", versions, err)
	}
	if changes := h.auditOf(store.AuditAdminChange); len(changes) == 0 || changes[0].Version != versions[0].Version || changes[0].Pool != cogPoolID {
		t.Errorf("audit of the change: %+v", changes)
	}

	if _, err := editor.SetPrincipalTagAttributeMap(ctx, &cognitoidentity.SetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(cogPoolID),
		IdentityProviderName: aws.String(key), UseDefaults: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if got := get(); !aws.ToBool(got.UseDefaults) || len(got.PrincipalTags) != 2 || got.PrincipalTags["username"] != "sub" || got.PrincipalTags["client"] != "aud" {
		t.Fatalf("Get after UseDefaults = %+v", got)
	}
	if got := h.vendTags(alice); got != fmt.Sprintf(`{"principal_tags":{"client":[%q],"username":["alice"]}}`, cogWebClient) {
		t.Errorf("tags with the defaults = %s", got)
	}

	if _, err := editor.SetPrincipalTagAttributeMap(ctx, &cognitoidentity.SetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(cogPoolID),
		IdentityProviderName: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if got := get(); aws.ToBool(got.UseDefaults) || len(got.PrincipalTags) != 0 {
		t.Fatalf("Get after clearing = %+v", got)
	}
	if got := h.vendTags(alice); got != "null" {
		t.Errorf("tags after clearing = %s", got)
	}
}

// Refusals of SetPrincipalTagAttributeMap, TagResource and UntagResource
// leave the pool as it was.
func TestCognitoPrincipalTagAndTagRefusals(t *testing.T) {
	h := newCogHarness(t)
	ctx := context.Background()
	key := h.idp.loginKey()
	editorID, editorSecret := h.accessKey("editor", "")
	editor, _ := h.signedSDK(editorID, editorSecret, 0)
	scopedID, scopedSecret := h.accessKey("editor", cogClosedID)
	scoped, _ := h.signedSDK(scopedID, scopedSecret, 0)
	many := map[string]string{}
	for i := range 51 {
		many[fmt.Sprintf("t%d", i)] = "email"
	}
	set := func(c *cognitoidentity.Client, pool, provider string, defaults bool, tags map[string]string) error {
		_, err := c.SetPrincipalTagAttributeMap(ctx, &cognitoidentity.SetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(pool),
			IdentityProviderName: aws.String(provider), UseDefaults: aws.Bool(defaults), PrincipalTags: tags})
		return err
	}
	arn := "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/" + cogPoolID
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"unknown pool":                   {set(editor, cogUnknownID, key, false, map[string]string{"a": "b"}), cognito.ErrResourceNotFound},
		"provider not of the pool":       {set(editor, cogPoolID, "accounts.google.com", false, map[string]string{"a": "b"}), cognito.ErrResourceNotFound},
		"51 tags":                        {set(editor, cogPoolID, key, false, many), cognito.ErrInvalidParameter},
		"a value over 256":               {set(editor, cogPoolID, key, false, map[string]string{"a": strings.Repeat("x", 257)}), cognito.ErrInvalidParameter},
		"a key over 128":                 {set(editor, cogPoolID, key, false, map[string]string{strings.Repeat("k", 129): "email"}), cognito.ErrInvalidParameter},
		"a key AWS refuses":              {set(editor, cogPoolID, key, false, map[string]string{"bad*key": "email"}), cognito.ErrInvalidParameter},
		"defaults and tags":              {set(editor, cogPoolID, key, true, map[string]string{"a": "b"}), cognito.ErrInvalidParameter},
		"another pool's key":             {set(scoped, cogPoolID, key, false, map[string]string{"a": "b"}), cognito.ErrAccessDenied},
		"provider name too long":         {set(editor, cogPoolID, strings.Repeat("p", 129), false, nil), cognito.ErrInvalidParameter},
		"TagResource":                    {tagPool(ctx, editor, arn, map[string]string{"team": "web"}), cognito.ErrInvalidParameter},
		"TagResource, unknown pool":      {tagPool(ctx, editor, "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/"+cogUnknownID, map[string]string{"team": "web"}), cognito.ErrResourceNotFound},
		"TagResource, not a pool ARN":    {tagPool(ctx, editor, "arn:aws:s3:::bucket", map[string]string{"team": "web"}), cognito.ErrInvalidParameter},
		"UntagResource, another pool's":  {untagPool(ctx, scoped, arn, []string{"team"}), cognito.ErrAccessDenied},
		"CreateIdentityPool with tags":   {createWithTags(ctx, editor, key), cognito.ErrInvalidParameter},
		"TagResource by another's key":   {tagPool(ctx, scoped, arn, map[string]string{"team": "web"}), cognito.ErrAccessDenied},
		"UntagResource, 51 keys":         {untagPool(ctx, editor, arn, strings.Split(strings.Repeat("k,", 50)+"k", ",")), cognito.ErrInvalidParameter},
		"UntagResource, not a pool ARN":  {untagPool(ctx, editor, "arn:aws:s3:::bucket", []string{"team"}), cognito.ErrInvalidParameter},
		"SetPrincipalTagAttributeMap ok": {set(editor, cogClosedID, key, false, map[string]string{"mail": "email"}), ""},
	} {
		if tc.want == "" {
			if tc.err != nil {
				t.Errorf("%s: %v", name, tc.err)
			}
			continue
		}
		t.Run(name, func(t *testing.T) { checkSignedError(t, tc.err, tc.want) })
	}
	if err := tagPool(ctx, editor, arn, map[string]string{"team": "web"}); err == nil || !strings.Contains(err.Error(), "do not take tags") {
		t.Errorf("TagResource's refusal does not say why: %v", err)
	}
	viewerID, viewerSecret := h.accessKey("viewer", "")
	viewer, _ := h.signedSDK(viewerID, viewerSecret, 0)
	checkSignedError(t, tagPool(ctx, viewer, arn, map[string]string{"team": "web"}), cognito.ErrAccessDenied)
	if err := untagPool(ctx, editor, arn, []string{"team"}); err != nil {
		t.Errorf("UntagResource of a tag the pool has not got: %v, want success", err)
	}
	tags, err := viewer.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 0 {
		t.Errorf("ListTagsForResource = %+v, %v; want no tags", tags, err)
	}
	got, err := viewer.GetPrincipalTagAttributeMap(ctx, &cognitoidentity.GetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(cogPoolID), IdentityProviderName: aws.String(key)})
	if err != nil || len(got.PrincipalTags) != 1 || got.PrincipalTags["department"] != "department" {
		t.Errorf("refusals changed the mobile pool's tags: %+v, %v", got, err)
	}
}

func tagPool(ctx context.Context, c *cognitoidentity.Client, arn string, tags map[string]string) error {
	_, err := c.TagResource(ctx, &cognitoidentity.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags})
	return err
}

func untagPool(ctx context.Context, c *cognitoidentity.Client, arn string, keys []string) error {
	_, err := c.UntagResource(ctx, &cognitoidentity.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: keys})
	return err
}

func createWithTags(ctx context.Context, c *cognitoidentity.Client, loginKey string) error {
	_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("Tagged"),
		SupportedLoginProviders: map[string]string{loginKey: "x"}, IdentityPoolTags: map[string]string{"team": "web"}})
	return err
}
