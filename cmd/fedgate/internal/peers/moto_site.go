package peers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// CreateUser creates an IAM user with an inline policy (none when
// policyJSON is empty) and an access key, and returns the key.
func (m *Moto) CreateUser(t testing.TB, name, policyJSON string) aws.Credentials {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	client := iam.NewFromConfig(m.AdminConfig())
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("moto: create user %s: %v", name, err)
	}
	if policyJSON != "" {
		_, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
			UserName: aws.String(name), PolicyName: aws.String(name + "-inline"), PolicyDocument: aws.String(policyJSON),
		})
		if err != nil {
			t.Fatalf("moto: put user policy on %s: %v", name, err)
		}
	}
	out, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("moto: create access key for %s: %v", name, err)
	}
	return aws.Credentials{AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(out.AccessKey.SecretAccessKey), Source: "moto user " + name}
}

// BucketSite serves a bucket's objects over plain GETs, as a CDN in front
// of a bucket does (CloudFront signs its reads of a private bucket). moto
// does not grant anonymous reads through a bucket policy, so the site
// signs each read with its reader's credentials, which IAM enforcement
// then limits to what that reader's policy allows.
type BucketSite struct {
	URL string // GET URL+"/"+key reads the object key
}

// StartBucketSite serves bucket at a local address read with creds; it
// passes the object's Content-Type and Cache-Control through.
func (m *Moto) StartBucketSite(t testing.TB, bucket string, creds aws.Credentials) *BucketSite {
	t.Helper()
	client := S3With(m, creds)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		out, err := client.GetObject(r.Context(), &s3.GetObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(strings.TrimPrefix(r.URL.Path, "/")),
		})
		var missing *types.NoSuchKey
		switch {
		case errors.As(err, &missing):
			http.Error(w, "no such object", http.StatusNotFound)
			return
		case IsAccessDenied(err):
			http.Error(w, "access denied", http.StatusForbidden)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer out.Body.Close()
		w.Header().Set("Content-Type", aws.ToString(out.ContentType))
		w.Header().Set("Cache-Control", aws.ToString(out.CacheControl))
		_, _ = io.Copy(w, out.Body)
	}))
	t.Cleanup(srv.Close)
	return &BucketSite{URL: srv.URL}
}
