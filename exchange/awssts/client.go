// Package awssts calls AWS STS AssumeRoleWithWebIdentity without AWS
// credentials: the web identity token is the only proof STS needs.
package awssts

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"fedgate/exchange"
)

const (
	defaultRegion      = "us-east-1"
	defaultMaxAttempts = 3
	defaultHTTPTimeout = 15 * time.Second
)

// Options configure a Client.
type Options struct {
	Region      string       // default us-east-1
	Endpoint    string       // "" = the regional AWS endpoint; set for moto or a VPC endpoint
	HTTPClient  *http.Client // default: a client with a 15s timeout
	MaxAttempts int          // default 3
	// MaxBackoff caps the delay between attempts; 0 = the SDK default (20s).
	MaxBackoff time.Duration
}

// Client makes unsigned AssumeRoleWithWebIdentity calls.
type Client struct {
	sts *sts.Client
}

// New builds a Client. Calls are unsigned (anonymous credentials), so no AWS
// secret is ever loaded.
func New(o Options) (*Client, error) {
	if o.Region == "" {
		o.Region = defaultRegion
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = defaultMaxAttempts
	}
	if o.MaxAttempts < 0 || o.MaxBackoff < 0 {
		return nil, errors.New("awssts: MaxAttempts and MaxBackoff must not be negative")
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: defaultHTTPTimeout}
	}
	retryer := retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = o.MaxAttempts
		if o.MaxBackoff > 0 {
			so.MaxBackoff = o.MaxBackoff
		}
		// STS answers IDPCommunicationError when it could not fetch the
		// issuer's JWKS in time; AWS documents it as worth retrying.
		so.Retryables = append(so.Retryables, retry.RetryableErrorCode{
			Codes: map[string]struct{}{exchange.CodeIDPCommunicationError: {}},
		})
	})
	stsOpts := sts.Options{
		Region:      o.Region,
		Credentials: aws.AnonymousCredentials{},
		HTTPClient:  o.HTTPClient,
		Retryer:     retryer,
	}
	if o.Endpoint != "" {
		stsOpts.BaseEndpoint = aws.String(o.Endpoint)
	}
	return &Client{sts: sts.New(stsOpts)}, nil
}

// AssumeRoleWithWebIdentity exchanges a web identity token for credentials.
// Failures are *exchange.STSError.
func (c *Client) AssumeRoleWithWebIdentity(ctx context.Context, in exchange.WebIdentityInput) (*exchange.Credentials, error) {
	dur, policy, err := sessionParams(in.Duration, in.Policy)
	if err != nil {
		return nil, err
	}
	out, err := c.sts.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(in.RoleARN),
		RoleSessionName:  aws.String(in.SessionName),
		WebIdentityToken: aws.String(in.Token),
		DurationSeconds:  dur,
		Policy:           policy,
	})
	if err != nil {
		return nil, classify(err)
	}
	creds, err := credentialsFrom(out.Credentials, out.AssumedRoleUser, in.RoleARN)
	if err != nil {
		return nil, err
	}
	creds.SessionName = in.SessionName
	return creds, nil
}

// sessionParams are the DurationSeconds and Policy parameters both
// AssumeRoleWith* calls take; 0 and "" leave them to STS.
func sessionParams(d time.Duration, policy string) (*int32, *string, error) {
	var dur *int32
	if d > 0 {
		secs := d / time.Second
		if secs > math.MaxInt32 {
			return nil, nil, fmt.Errorf("%w: duration %s too long", exchange.ErrInvalidRequest, d)
		}
		dur = aws.Int32(int32(secs))
	}
	if policy == "" {
		return dur, nil, nil
	}
	return dur, aws.String(policy), nil
}

// credentialsFrom reads the credentials both AssumeRoleWith* calls return.
func credentialsFrom(c *types.Credentials, user *types.AssumedRoleUser, roleARN string) (*exchange.Credentials, error) {
	if c == nil {
		return nil, exchange.NewSTSError("EmptyResponse", errors.New("STS answered without credentials"))
	}
	creds := &exchange.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Expiration:      aws.ToTime(c.Expiration),
		RoleARN:         roleARN,
	}
	if user != nil {
		creds.AssumedRoleARN = aws.ToString(user.Arn)
	}
	return creds, nil
}

// classify turns an SDK error into an *exchange.STSError: by STS error code
// when STS answered, else as a network failure.
func classify(err error) *exchange.STSError {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return exchange.NewSTSError(apiErr.ErrorCode(), err)
	}
	return exchange.NewSTSError(exchange.CodeNetwork, err)
}
