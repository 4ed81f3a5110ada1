package publish

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Options say how to reach the bucket. Credentials are not among them:
// they come from the host's standard AWS chain (environment, shared
// profile, container or instance role), so fedgate holds no long-lived
// secret for publishing.
type S3Options struct {
	Region    string // empty: the chain's (AWS_REGION, the profile)
	Endpoint  string // an S3-compatible endpoint; empty: AWS's
	PathStyle bool
	// HTTPClient makes the requests; nil takes the SDK's default client.
	HTTPClient aws.HTTPClient
}

// NewS3Client builds an S3 client from the standard AWS configuration
// chain and o. Credentials are resolved at the first request, so a missing
// one shows as the first Publish's error.
func NewS3Client(ctx context.Context, o S3Options) (*s3.Client, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	if o.HTTPClient != nil {
		opts = append(opts, awsconfig.WithHTTPClient(o.HTTPClient))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("publish: loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("publish: no region: set keys.publish.region or AWS_REGION")
	}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
	}), nil
}
