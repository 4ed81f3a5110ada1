package awssts

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"fedgate/exchange"
)

// AssumeRoleWithSAML exchanges a base64 SAML response for credentials. Like
// AssumeRoleWithWebIdentity it is unsigned: the assertion is the only proof
// STS needs. Failures are *exchange.STSError, classified as for the OIDC call.
func (c *Client) AssumeRoleWithSAML(ctx context.Context, in exchange.SAMLInput) (*exchange.Credentials, error) {
	dur, policy, err := sessionParams(in.Duration, in.Policy)
	if err != nil {
		return nil, err
	}
	req := &sts.AssumeRoleWithSAMLInput{
		RoleArn:         aws.String(in.RoleARN),
		PrincipalArn:    aws.String(in.PrincipalARN),
		SAMLAssertion:   aws.String(in.Assertion),
		DurationSeconds: dur,
		Policy:          policy,
	}
	var out *sts.AssumeRoleWithSAMLOutput
	err = c.call(ctx, func(ctx context.Context) (err error) {
		out, err = c.sts.AssumeRoleWithSAML(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return credentialsFrom(out.Credentials, out.AssumedRoleUser, in.RoleARN)
}
