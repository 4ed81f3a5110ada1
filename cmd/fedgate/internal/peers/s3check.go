package peers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Check is one S3 call that proves what a set of vended credentials may do
// under moto's IAM enforcement.
type S3Check struct {
	what   string
	call   func(context.Context, *s3.Client) error
	denied bool
}

// Creds are credentials as the SDKs' responses carry them (STS, Cognito).
func Creds(accessKeyID, secretKey, sessionToken *string) aws.Credentials {
	return aws.Credentials{AccessKeyID: aws.ToString(accessKeyID), SecretAccessKey: aws.ToString(secretKey), SessionToken: aws.ToString(sessionToken)}
}

// Lists: listing bucket works and, when keys are given, shows exactly those.
func Lists(bucket string, keys ...string) S3Check {
	return S3Check{what: "listing " + bucket, call: func(ctx context.Context, c *s3.Client) error {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		if err != nil || keys == nil {
			return err
		}
		got := make([]string, 0, len(out.Contents))
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
		if !slices.Equal(got, keys) {
			return fmt.Errorf("got objects %v, want %v", got, keys)
		}
		return nil
	}}
}

// Reads: getting key from bucket works.
func Reads(bucket, key string) S3Check {
	return S3Check{what: "reading " + bucket + "/" + key, call: func(ctx context.Context, c *s3.Client) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			out.Body.Close()
		}
		return err
	}}
}

// Writes: putting key into bucket works.
func Writes(bucket, key string) S3Check {
	return S3Check{what: "writing " + bucket + "/" + key, call: func(ctx context.Context, c *s3.Client) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("x")})
		return err
	}}
}

// Denied turns a check around: its call must fail with AccessDenied.
func Denied(c S3Check) S3Check {
	c.denied = true
	return c
}

// CheckS3 makes each call with creds and stops the test if any has
// another outcome than the check wants.
func (m *Moto) CheckS3(t testing.TB, creds aws.Credentials, checks ...S3Check) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	client := S3With(m, creds)
	failed := false
	for _, c := range checks {
		err := c.call(ctx, client)
		switch {
		case c.denied && !IsAccessDenied(err):
			t.Errorf("%s with these credentials: err = %v, want AccessDenied", c.what, err)
			failed = true
		case !c.denied && err != nil:
			t.Errorf("%s with these credentials: %v", c.what, err)
			failed = true
		}
	}
	if failed {
		t.FailNow()
	}
}
