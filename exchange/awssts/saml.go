package awssts

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"fedgate/exchange"
)

// AssumeRoleWithSAML exchanges a base64 SAML response for credentials. Like
// AssumeRoleWithWebIdentity it is unsigned: the assertion is the only proof
// STS needs. Failures are *exchange.STSError, classified as for the OIDC call.
func (c *Client) AssumeRoleWithSAML(ctx context.Context, in exchange.SAMLInput) (*exchange.Credentials, error) {
	params := &sts.AssumeRoleWithSAMLInput{
		RoleArn:       aws.String(in.RoleARN),
		PrincipalArn:  aws.String(in.PrincipalARN),
		SAMLAssertion: aws.String(in.Assertion),
	}
	if in.Duration > 0 {
		secs := in.Duration / time.Second
		if secs > math.MaxInt32 {
			return nil, fmt.Errorf("%w: duration %s too long", exchange.ErrInvalidRequest, in.Duration)
		}
		params.DurationSeconds = aws.Int32(int32(secs))
	}
	if in.Policy != "" {
		params.Policy = aws.String(in.Policy)
	}
	out, err := c.sts.AssumeRoleWithSAML(ctx, params)
	if err != nil {
		return nil, classify(err)
	}
	if out.Credentials == nil {
		return nil, exchange.NewSTSError("EmptyResponse", errors.New("STS answered without credentials"))
	}
	creds := &exchange.Credentials{
		AccessKeyID:     aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken:    aws.ToString(out.Credentials.SessionToken),
		Expiration:      aws.ToTime(out.Credentials.Expiration),
		RoleARN:         in.RoleARN,
	}
	if out.AssumedRoleUser != nil {
		creds.AssumedRoleARN = aws.ToString(out.AssumedRoleUser.Arn)
	}
	return creds, nil
}
