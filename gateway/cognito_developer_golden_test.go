package gateway

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"fedgate/gateway/cognito"
	"fedgate/gateway/config"
)

// developerGoldenCases pin the developer operations and their errors.
func developerGoldenCases() []cogGoldenCase {
	type call = func(context.Context, *cogHarness, *cognitoidentity.Client, map[string]string) error
	dev := []func(*config.File){withDevProviders}
	// linked makes developer users and returns their identities.
	linked := func(users ...string) func(*cogHarness) map[string]string {
		return func(h *cogHarness) map[string]string {
			c := h.devClient(config.AdminEditor, "")
			v := map[string]string{}
			for _, u := range users {
				id, tok, err := h.devToken(c, cogPoolID, cogDevName, u, map[string]string{"groups": "s3-readers"}, "")
				if err != nil {
					h.t.Fatal(err)
				}
				v[u], v[u+":token"] = id, tok
			}
			return v
		}
	}
	devToken := func(user, identity string, duration *int64) call {
		return func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, v map[string]string) error {
			in := &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(cogPoolID),
				Logins: map[string]string{cogDevName: user}, PrincipalTags: map[string]string{"groups": "s3-readers"}, TokenDuration: duration}
			if identity != "" {
				in.IdentityId = aws.String(v[identity])
			}
			_, err := c.GetOpenIdTokenForDeveloperIdentity(ctx, in)
			return err
		}
	}
	devCreds := func(user string, later time.Duration) call {
		return func(ctx context.Context, h *cogHarness, c *cognitoidentity.Client, v map[string]string) error {
			h.clock.Advance(later)
			_, err := c.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(v[user]),
				Logins: devLogins(v[user+":token"])})
			return err
		}
	}
	lookup := func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, v map[string]string) error {
		_, err := c.LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(cogPoolID),
			DeveloperUserIdentifier: aws.String("user-a"), MaxResults: aws.Int32(10)})
		return err
	}
	merge := func(name string) call {
		return func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.MergeDeveloperIdentities(ctx, &cognitoidentity.MergeDeveloperIdentitiesInput{IdentityPoolId: aws.String(cogPoolID),
				SourceUserIdentifier: aws.String("user-b"), DestinationUserIdentifier: aws.String("user-a"), DeveloperProviderName: aws.String(name)})
			return err
		}
	}
	unlink := func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, v map[string]string) error {
		_, err := c.UnlinkDeveloperIdentity(ctx, &cognitoidentity.UnlinkDeveloperIdentityInput{IdentityPoolId: aws.String(cogPoolID),
			IdentityId: aws.String(v["user-a"]), DeveloperProviderName: aws.String(cogDevName), DeveloperUserIdentifier: aws.String("user-a")})
		return err
	}
	return []cogGoldenCase{
		{name: "GetOpenIdTokenForDeveloperIdentity.new-user", opts: dev, signer: "editor", sdk: devToken("user-a", "", aws.Int64(300))},
		{name: "GetCredentialsForIdentity.developer-login", opts: dev, setup: linked("user-a"), sdk: devCreds("user-a", 0)},
		{name: "LookupDeveloperIdentity.by-user", opts: dev, signer: "viewer", setup: linked("user-a"), sdk: lookup},
		{name: "MergeDeveloperIdentities.two-users", opts: dev, signer: "editor", setup: linked("user-a", "user-b"), sdk: merge(cogDevName)},
		{name: "UnlinkDeveloperIdentity.user", opts: dev, signer: "editor", setup: linked("user-a"), sdk: unlink},
		{name: "DescribeIdentityPool.developer", opts: dev, signer: "viewer", sdk: func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			_, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(cogPoolID)})
			return err
		}},
		{name: "DeveloperUserAlreadyRegisteredException.other-identity", opts: dev, signer: "editor", setup: linked("user-a", "user-b"),
			sdk: devToken("user-a", "user-b", nil), wantType: cognito.ErrDeveloperUserAlreadyRegistered},
		{name: "NotAuthorizedException.developer-token-expired", opts: dev, setup: linked("user-a"), sdk: devCreds("user-a", time.Hour), wantType: cognito.ErrNotAuthorized},
		{name: "InvalidParameterException.token-duration-over-cap", opts: dev, signer: "editor", sdk: devToken("user-a", "", aws.Int64(3600)), wantType: cognito.ErrInvalidParameter},
		{name: "InvalidParameterException.wrong-developer-provider", opts: dev, signer: "editor", setup: linked("user-a", "user-b"), sdk: merge("login.other.app"), wantType: cognito.ErrInvalidParameter},
		{name: "ResourceConflictException.lookup-mismatch", opts: dev, signer: "viewer", setup: linked("user-a", "user-b"), sdk: func(ctx context.Context, _ *cogHarness, c *cognitoidentity.Client, v map[string]string) error {
			_, err := c.LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(cogPoolID),
				IdentityId: aws.String(v["user-b"]), DeveloperUserIdentifier: aws.String("user-a")})
			return err
		}, wantType: cognito.ErrResourceConflict},
		{name: "AccessDeniedException.viewer-developer-token", opts: dev, signer: "viewer", sdk: devToken("user-a", "", nil), wantType: cognito.ErrAccessDenied},
	}
}
