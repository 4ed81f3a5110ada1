package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"

	"fedgate/gateway/cognito"
	"fedgate/gateway/config"
)

// goldenSigner is the SDK client of a golden case's signer.
func (h *cogHarness) goldenSigner(signer string) (*cognitoidentity.Client, *cogWire) {
	h.t.Helper()
	switch signer {
	case "viewer", "editor":
		id, secret := h.accessKey(signer, "")
		h.keyID = id
		return h.signedSDK(id, secret, 0)
	case "closed-pool-editor":
		id, secret := h.accessKey(config.AdminEditor, cogClosedID)
		h.keyID = id
		return h.signedSDK(id, secret, 0)
	case "disabled":
		id, secret := h.accessKey(config.AdminEditor, "")
		if err := h.srv.core.AccessKeys().SetDisabled(context.Background(), id, true, "test"); err != nil {
			h.t.Fatal(err)
		}
		h.keyID = id
		return h.signedSDK(id, secret, 0)
	case "unknown":
		return h.signedSDK("FGAKUNKNOWNUNKNOWN00", "secret", 0)
	case "wrong-secret":
		id, _ := h.accessKey(config.AdminEditor, "")
		h.keyID = id
		return h.signedSDK(id, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 0)
	case "expired":
		id, secret := h.accessKey(config.AdminEditor, "")
		h.keyID = id
		return h.signedSDK(id, secret, -6*time.Minute)
	}
	h.t.Fatalf("unknown signer %q", signer)
	return nil, nil
}

func signedGoldenCases() []cogGoldenCase {
	type call = func(context.Context, *cogHarness, *cognitoidentity.Client, map[string]string) error
	listPools := func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
		_, err := c.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(1)})
		return err
	}
	describePool := func(pool string) call {
		return func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(pool)})
			return err
		}
	}
	describeIdentity := func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, v map[string]string) error {
		_, err := c.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(v["id"])})
		return err
	}
	listIdentities := func(pool string) call {
		return func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.ListIdentities(ctx, &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(pool), MaxResults: aws.Int32(1)})
			return err
		}
	}
	deleteIdentities := func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, v map[string]string) error {
		_, err := c.DeleteIdentities(ctx, &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: []string{v["id"], cogUnknownID}})
		return err
	}
	getRoles := func(pool string) call {
		return func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(pool)})
			return err
		}
	}
	twoIdentities := func(h *cogHarness) map[string]string {
		h.mustID(cogPoolID, nil)
		return idOf(h, cogPoolID, "alice")
	}
	alice := func(h *cogHarness) map[string]string { return idOf(h, cogPoolID, "alice") }
	rawSigned := func(auth string) func(*cogHarness) *http.Request {
		return func(*cogHarness) *http.Request {
			req := httptestPost(cognito.TargetPrefix+"ListIdentityPools", `{"MaxResults":10}`)
			if auth != "" {
				req.Header.Set("Authorization", auth)
				req.Header.Set("X-Amz-Date", cogFixedNow.Format("20060102T150405Z"))
			}
			return req
		}
	}
	return []cogGoldenCase{
		{name: "ListIdentityPools.first-page", signer: "viewer", sdk: listPools},
		{name: "DescribeIdentityPool.mobile", signer: "viewer", sdk: describePool(cogPoolID)},
		{name: "DescribeIdentity.login", signer: "viewer", setup: alice, sdk: describeIdentity},
		{name: "ListIdentities.first-page", signer: "viewer", setup: twoIdentities, sdk: listIdentities(cogPoolID)},
		{name: "DeleteIdentities.known-and-unknown", signer: "editor", setup: alice, sdk: deleteIdentities},

		{name: "MissingAuthenticationTokenException.unsigned", raw: rawSigned(""), wantType: cognito.ErrMissingAuth},
		{name: "IncompleteSignature.no-credential", raw: rawSigned("AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("0", 64)),
			wantType: cognito.ErrIncompleteSig},
		{name: "InvalidSignatureException.wrong-secret", signer: "wrong-secret", sdk: listPools, wantType: cognito.ErrInvalidSignature},
		{name: "InvalidSignatureException.expired", signer: "expired", sdk: listPools, wantType: cognito.ErrInvalidSignature},
		{name: "UnrecognizedClientException.unknown-key", signer: "unknown", sdk: listPools, wantType: cognito.ErrUnrecognizedClient},
		{name: "UnrecognizedClientException.disabled-key", signer: "disabled", sdk: listPools, wantType: cognito.ErrUnrecognizedClient},
		{name: "AccessDeniedException.viewer-deletes", signer: "viewer", setup: alice, sdk: deleteIdentities, wantType: cognito.ErrAccessDenied},
		{name: "AccessDeniedException.other-pool", signer: "closed-pool-editor", sdk: listIdentities(cogPoolID), wantType: cognito.ErrAccessDenied},
		{name: "UnlinkIdentity.saml-login", setup: func(h *cogHarness) map[string]string {
			withCogSAML(h)
			logins := h.logins("alice")
			logins[cogSAMLARN] = "good:golden"
			return map[string]string{"id": h.mustID(cogPoolID, logins)}
		}, sdk: func(ctx context.Context, h *cogHarness, c *cognitoidentity.Client, v map[string]string) error {
			_, err := c.UnlinkIdentity(ctx, &cognitoidentity.UnlinkIdentityInput{IdentityId: aws.String(v["id"]), Logins: h.logins("alice"),
				LoginsToRemove: []string{cogSAMLARN}})
			return err
		}},
		{name: "CreateIdentityPool.oidc", signer: "editor", sdk: func(ctx context.Context, h *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("Partner App"),
				AllowUnauthenticatedIdentities: false, SupportedLoginProviders: map[string]string{h.idp.loginKey(): "partner-app"}})
			return err
		}},
		{name: "DeleteIdentityPool.closed", signer: "editor", sdk: func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(cogClosedID)})
			return err
		}},
		{name: "UpdateIdentityPool.rename", signer: "editor", sdk: func(ctx context.Context, h *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(cogClosedID), IdentityPoolName: aws.String("Closed Beta"),
				SupportedLoginProviders: map[string]string{h.idp.loginKey(): "x"}})
			return err
		}},
		{name: "SetIdentityPoolRoles.rules", signer: "editor", sdk: func(ctx context.Context, h *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(cogClosedID),
				Roles: map[string]string{"authenticated": cogReaderRole},
				RoleMappings: map[string]citypes.RoleMapping{h.idp.loginKey(): {Type: citypes.RoleMappingTypeRules, AmbiguousRoleResolution: citypes.AmbiguousRoleResolutionTypeDeny,
					RulesConfiguration: &citypes.RulesConfigurationType{Rules: []citypes.MappingRule{
						{Claim: aws.String("groups"), MatchType: citypes.MappingRuleMatchTypeNotEqual, Value: aws.String("contractors"), RoleARN: aws.String(cogReaderRole)}}}}}})
			return err
		}},
		{name: "GetIdentityPoolRoles.rules", signer: "viewer", sdk: getRoles(cogClosedID)},
		{name: "InvalidParameterException.roles-without-cognito-shape", signer: "viewer", sdk: getRoles(cogPoolID), wantType: cognito.ErrInvalidParameter},
		{name: "InvalidParameterException.create-with-unknown-provider", signer: "editor", sdk: func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("x"),
				AllowUnauthenticatedIdentities: false, SupportedLoginProviders: map[string]string{"graph.facebook.com": "1"}})
			return err
		}, wantType: cognito.ErrInvalidParameter},
		{name: "GetPrincipalTagAttributeMap.mobile", signer: "viewer", sdk: func(ctx context.Context, h *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.GetPrincipalTagAttributeMap(ctx, &cognitoidentity.GetPrincipalTagAttributeMapInput{IdentityPoolId: aws.String(cogPoolID),
				IdentityProviderName: aws.String(h.idp.loginKey())})
			return err
		}},
		{name: "ListTagsForResource.mobile", signer: "viewer", sdk: func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:cognito-identity:us-east-1:123456789012:identitypool/" + cogPoolID)})
			return err
		}},
		{name: "ResourceNotFoundException.unknown-pool-signed", signer: "viewer", sdk: describePool(cogUnknownID), wantType: cognito.ErrResourceNotFound},
	}
}

// httptestPost is a JSON 1.1 request of one operation to the API, unsigned.
func httptestPost(target, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", cognito.ContentType)
	req.Header.Set("X-Amz-Target", target)
	return req
}
