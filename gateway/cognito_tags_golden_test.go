package gateway

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"fedgate/gateway/cognito"
)

// tagGoldenCases pin SetPrincipalTagAttributeMap, TagResource and
// UntagResource, and their refusals.
func tagGoldenCases() []cogGoldenCase {
	type call = func(context.Context, *cogHarness, *cognitoidentity.Client, map[string]string) error
	setTags := func(pool string, provider func(*cogHarness) string, defaults bool, tags map[string]string) call {
		return func(ctx context.Context, h *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.SetPrincipalTagAttributeMap(ctx, &cognitoidentity.SetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(pool),
				IdentityProviderName: aws.String(provider(h)), UseDefaults: aws.Bool(defaults), PrincipalTags: tags})
			return err
		}
	}
	corp := func(h *cogHarness) string { return h.idp.loginKey() }
	google := func(*cogHarness) string { return "accounts.google.com" }
	arn := "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/" + cogPoolID
	tag := func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
		return tagPool(ctx, c, arn, map[string]string{"team": "web"})
	}
	many := map[string]string{}
	for _, k := range "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY" {
		many[string(k)] = "email"
	}
	return []cogGoldenCase{
		{name: "SetPrincipalTagAttributeMap.custom", signer: "editor", sdk: setTags(cogPoolID, corp, false, map[string]string{"mail": "email", "team": "department"})},
		{name: "SetPrincipalTagAttributeMap.defaults", signer: "editor", sdk: setTags(cogPoolID, corp, true, nil)},
		{name: "ResourceNotFoundException.tag-map-provider-not-in-pool", signer: "editor", sdk: setTags(cogPoolID, google, false, map[string]string{"a": "b"}),
			wantType: cognito.ErrResourceNotFound},
		{name: "InvalidParameterException.tag-map-51-tags", signer: "editor", sdk: setTags(cogPoolID, corp, false, many), wantType: cognito.ErrInvalidParameter},
		{name: "AccessDeniedException.viewer-sets-tag-map", signer: "viewer", sdk: setTags(cogPoolID, corp, false, map[string]string{"a": "b"}), wantType: cognito.ErrAccessDenied},
		{name: "InvalidParameterException.tag-resource", signer: "editor", sdk: tag, wantType: cognito.ErrInvalidParameter},
		{name: "UntagResource.mobile", signer: "editor", sdk: func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			return untagPool(ctx, c, arn, []string{"team"})
		}},
	}
}
