package main

import (
	"context"
	"fmt"
	"io"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	jose "github.com/go-jose/go-jose/v4"

	"fedgate/exchange/issuer"
	"fedgate/exchange/issuer/publish"
	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// publishTimeout bounds one publication by a command, retries included.
const publishTimeout = 30 * time.Second

// newPublisher is the keys.publish publisher, or nil without that section.
// Its S3 credentials come from the host's AWS chain, never from the file.
func newPublisher(ctx context.Context, f *config.File) (*publish.Publisher, error) {
	p := f.Keys.Publish
	if p == nil {
		return nil, nil
	}
	client, err := publish.NewS3Client(ctx, publish.S3Options{
		Region: p.Region, Endpoint: p.Endpoint, PathStyle: p.PathStyle,
		HTTPClient: awshttp.NewBuildableClient().WithTimeout(publishTimeout),
	})
	if err != nil {
		return nil, fmt.Errorf("keys.publish: %w", err)
	}
	pub, err := publish.New(publish.Options{
		Client: client, Bucket: p.Bucket, Prefix: p.Prefix,
		BaseURL: f.IssuerBase(), CacheMaxAge: p.CacheMaxAge.D(),
	})
	if err != nil {
		return nil, fmt.Errorf("keys.publish: %w", err)
	}
	return pub, nil
}

// publishDocuments writes the live issuers' documents with jwks.
func publishDocuments(ctx context.Context, f *config.File, st store.Store, box *secret.Box, pub *publish.Publisher, jwks jose.JSONWebKeySet) ([]publish.Object, error) {
	issuers, err := core.LiveIssuerURLs(ctx, st, box, f)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	return pub.Publish(ctx, issuer.Documents{Issuers: issuers, JWKS: jwks})
}

// keysPublish is `fedgate keys publish`: one publication of the current
// documents, saying what it wrote.
func keysPublish(ctx context.Context, f *config.File, st store.Store, box *secret.Box, pub *publish.Publisher, iss *issuer.Issuer, stdout, stderr io.Writer) int {
	jwks := iss.JWKS()
	objs, err := publishDocuments(ctx, f, st, box, pub, jwks)
	for _, o := range objs {
		fmt.Fprintf(stdout, "wrote %s (%d bytes), read at %s\n", o.S3, o.Bytes, o.URL)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fedgate keys publish: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "published %d key(s): ", len(jwks.Keys))
	for i, k := range jwks.Keys {
		if i > 0 {
			fmt.Fprint(stdout, ", ")
		}
		fmt.Fprint(stdout, k.KeyID)
	}
	fmt.Fprintf(stdout, "; signing with %s\n", iss.SigningKeyID())
	return 0
}
