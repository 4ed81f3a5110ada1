// Package awssts calls AWS STS AssumeRoleWithWebIdentity and
// AssumeRoleWithSAML without AWS credentials: the token or assertion is the
// only proof STS needs.
//
// One Client serves the whole process: one pooled transport sized for the
// expected concurrency, the SDK's standard retryer (exponential backoff
// with full jitter) inside one time budget per call, and a circuit breaker
// that stops calling an STS that keeps failing and probes it again after a
// cooldown.
package awssts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/sony/gobreaker/v2"

	"fedgate/exchange"
)

const (
	defaultRegion          = "us-east-1"
	defaultMaxAttempts     = 3
	defaultTimeout         = 10 * time.Second
	defaultConcurrency     = 256
	defaultBreakerFailures = 5
	defaultBreakerCooldown = 5 * time.Second
)

// Options configure a Client. Zero values take the defaults.
type Options struct {
	Region   string // default us-east-1; the endpoint is the region's own
	Endpoint string // "" = the regional AWS endpoint; set for moto or a VPC endpoint
	// Timeout bounds one call, every retry and backoff included (the
	// configuration's sts.timeout); default 10s. Each attempt gets its
	// share, so one hung connection cannot eat the whole budget.
	Timeout time.Duration
	// MaxAttempts is how many times a call is tried; default 3.
	MaxAttempts int
	// MaxBackoff caps the jittered delay between attempts; default a
	// quarter of Timeout.
	MaxBackoff time.Duration
	// Concurrency is how many calls are expected at once; the transport
	// keeps that many idle connections to STS. Default 256.
	Concurrency int
	// BreakerFailures is how many outage failures in a row (throttling,
	// 5xx, timeouts, unreachable) open the circuit; default 5.
	BreakerFailures int
	// BreakerCooldown is how long an open circuit refuses calls before one
	// probe call is let through; default 5s.
	BreakerCooldown time.Duration
	// HTTPClient replaces the pooled client (tests); its own timeout then
	// applies per attempt.
	HTTPClient *http.Client
	Logger     *slog.Logger // circuit state changes; nil = discard
}

// Client makes unsigned AssumeRoleWith* calls.
type Client struct {
	sts      *sts.Client
	timeout  time.Duration
	cooldown time.Duration
	breaker  *gobreaker.CircuitBreaker[any]
}

// New builds a Client. Calls are unsigned (anonymous credentials), so no AWS
// secret is ever loaded.
func New(o Options) (*Client, error) {
	if o.MaxAttempts < 0 || o.MaxBackoff < 0 || o.Timeout < 0 || o.Concurrency < 0 || o.BreakerFailures < 0 || o.BreakerCooldown < 0 {
		return nil, errors.New("awssts: options must not be negative")
	}
	o = withDefaults(o)
	if o.HTTPClient == nil {
		o.HTTPClient = NewHTTPClient(o.Concurrency, o.Timeout/time.Duration(o.MaxAttempts))
	}
	retryer := retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = o.MaxAttempts
		so.MaxBackoff = o.MaxBackoff
		so.Backoff = retry.NewExponentialJitterBackoff(o.MaxBackoff)
		// STS answers IDPCommunicationError when it could not fetch the
		// issuer's JWKS in time; AWS documents it as worth retrying.
		so.Retryables = append(so.Retryables, retry.RetryableErrorCode{
			Codes: map[string]struct{}{exchange.CodeIDPCommunicationError: {}},
		})
	})
	stsOpts := sts.Options{
		Region:      o.Region,
		Credentials: aws.AnonymousCredentials{},
		HTTPClient:  oneWrite{o.HTTPClient},
		Retryer:     retryer,
	}
	if o.Endpoint != "" {
		stsOpts.BaseEndpoint = aws.String(o.Endpoint)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Client{
		sts:      sts.New(stsOpts, withQuickResults),
		timeout:  o.Timeout,
		cooldown: o.BreakerCooldown,
		breaker:  newBreaker(o.BreakerFailures, o.BreakerCooldown, log),
	}, nil
}

func withDefaults(o Options) Options {
	if o.Region == "" {
		o.Region = defaultRegion
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = defaultMaxAttempts
	}
	if o.Timeout == 0 {
		o.Timeout = defaultTimeout
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = o.Timeout / 4
	}
	if o.Concurrency == 0 {
		o.Concurrency = defaultConcurrency
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = defaultBreakerFailures
	}
	if o.BreakerCooldown == 0 {
		o.BreakerCooldown = defaultBreakerCooldown
	}
	return o
}

// AssumeRoleWithWebIdentity exchanges a web identity token for credentials.
// Failures are *exchange.STSError.
func (c *Client) AssumeRoleWithWebIdentity(ctx context.Context, in exchange.WebIdentityInput) (*exchange.Credentials, error) {
	dur, policy, err := sessionParams(in.Duration, in.Policy)
	if err != nil {
		return nil, err
	}
	req := &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(in.RoleARN),
		RoleSessionName:  aws.String(in.SessionName),
		WebIdentityToken: aws.String(in.Token),
		DurationSeconds:  dur,
		Policy:           policy,
	}
	var out *sts.AssumeRoleWithWebIdentityOutput
	err = c.call(ctx, func(ctx context.Context) (err error) {
		out, err = c.sts.AssumeRoleWithWebIdentity(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	creds, err := credentialsFrom(out.Credentials, out.AssumedRoleUser, in.RoleARN)
	if err != nil {
		return nil, err
	}
	creds.SessionName = in.SessionName
	return creds, nil
}

// call runs one STS operation through the circuit breaker, within the
// call's time budget, and classifies its failure.
func (c *Client) call(ctx context.Context, op func(context.Context) error) error {
	_, err := c.breaker.Execute(func() (any, error) {
		budget, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		err := op(budget)
		if err != nil && ctx.Err() != nil {
			return nil, callerGone{err}
		}
		return nil, err
	})
	if err == nil {
		return nil
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return exchange.NewCircuitOpenError(c.cooldown, err)
	}
	var gone callerGone
	if errors.As(err, &gone) {
		err = gone.err
	}
	return classify(err)
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

// classify turns an SDK error into an *exchange.STSError: throttling by any
// of the SDK's throttle codes, any 5xx as STS unavailable, other answers by
// their STS error code, and no answer at all as a network failure.
func classify(err error) *exchange.STSError {
	var resp *awshttp.ResponseError
	status := 0
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		if _, throttle := retry.DefaultThrottleErrorCodes[code]; throttle {
			code = exchange.CodeThrottling
		} else if status >= 500 {
			code = exchange.CodeUnavailable
		}
		return exchange.NewSTSError(code, err)
	}
	if status >= 500 {
		return exchange.NewSTSError(exchange.CodeUnavailable, err)
	}
	return exchange.NewSTSError(exchange.CodeNetwork, err)
}
