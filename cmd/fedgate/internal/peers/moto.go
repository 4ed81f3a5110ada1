package peers

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	// MotoRegion is the region every moto client here uses.
	MotoRegion = "us-east-1"
	// MotoAccountID is the account moto_iam.py pins all requests to.
	MotoAccountID = "123456789012"

	// The admin key is an IAM user with an Allow */* policy that moto_iam.py creates
	// before serving; under enforcement moto has no root key of its own.
	motoAdminKeyID  = "AKIAFEDGATEADMIN0001"
	motoAdminSecret = "fedgate-admin-secret-for-moto-tests-only"

	// setupTimeout bounds one admin call against a local peer.
	setupTimeout = 30 * time.Second
)

// Moto is a running moto server that enforces IAM policies on signed requests and
// serves AssumeRoleWithWebIdentity / AssumeRoleWithSAML unsigned, as AWS does.
//
// moto does not check the web identity token or the SAML signature at all, nor the
// role's trust policy, and it ignores session policies and session tags: it proves
// the wire protocol and what the role's own policies allow, nothing more.
type Moto struct {
	URL string // http://127.0.0.1:PORT, the endpoint for every service
	// AdminCredentials sign setup calls (create role, policy, bucket).
	AdminCredentials aws.Credentials
}

// StartMoto runs testdata/peers/moto_iam.py and stops it when the test ends.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		Required(t, "python3 with moto 5 (for testdata/peers/moto_iam.py)")
	}
	script := filepath.Join(peerDir(t), "moto_iam.py")
	cmd := exec.Command(python, script, "--port", "0", "--admin-key", motoAdminKeyID, "--admin-secret", motoAdminSecret)
	proc, err := startProcess(t, "moto", cmd)
	if err != nil {
		if strings.Contains(err.Error(), "No module named 'moto'") {
			Required(t, "the python moto package (moto 5, moto_server)")
		}
		t.Fatalf("peers: %v", err)
	}
	return &Moto{
		URL: fmt.Sprintf("http://127.0.0.1:%d", proc.port),
		AdminCredentials: aws.Credentials{
			AccessKeyID:     motoAdminKeyID,
			SecretAccessKey: motoAdminSecret,
			Source:          "moto admin user",
		},
	}
}

// AdminConfig is an SDK config signed with the admin user, pointed at moto.
func (m *Moto) AdminConfig() aws.Config {
	return m.config(m.AdminCredentials)
}

func (m *Moto) config(creds aws.Credentials) aws.Config {
	return aws.Config{
		Region:       MotoRegion,
		BaseEndpoint: aws.String(m.URL),
		Credentials: credentials.NewStaticCredentialsProvider(
			creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		// moto predates the SDK's default flexible checksums; only send them when required.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
}

// UnsignedSTS is an STS client without credentials, for the calls AWS serves unsigned.
func (m *Moto) UnsignedSTS() *sts.Client {
	return sts.New(sts.Options{
		Region:       MotoRegion,
		BaseEndpoint: aws.String(m.URL),
		Credentials:  aws.AnonymousCredentials{},
	})
}

// CreateRole creates an IAM role with the given trust policy and, unless
// inlinePolicyJSON is empty, an inline permission policy; it returns the role ARN.
func (m *Moto) CreateRole(t testing.TB, name, trustPolicyJSON, inlinePolicyJSON string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	client := iam.NewFromConfig(m.AdminConfig())
	out, err := client.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(trustPolicyJSON),
	})
	if err != nil {
		t.Fatalf("moto: create role %s: %v", name, err)
	}
	if inlinePolicyJSON != "" {
		_, err = client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
			RoleName:       aws.String(name),
			PolicyName:     aws.String(name + "-inline"),
			PolicyDocument: aws.String(inlinePolicyJSON),
		})
		if err != nil {
			t.Fatalf("moto: put role policy on %s: %v", name, err)
		}
	}
	return aws.ToString(out.Role.Arn)
}

// CreateBucket creates a bucket holding objects (key -> body).
func (m *Moto) CreateBucket(t testing.TB, name string, objects map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	client := S3With(m, m.AdminCredentials)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("moto: create bucket %s: %v", name, err)
	}
	for key, body := range objects {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(name),
			Key:    aws.String(key),
			Body:   strings.NewReader(body),
		})
		if err != nil {
			t.Fatalf("moto: put %s/%s: %v", name, key, err)
		}
	}
}

// S3With is a path-style S3 client against moto signed with creds.
func S3With(m *Moto, creds aws.Credentials) *s3.Client {
	return s3.NewFromConfig(m.config(creds), func(o *s3.Options) {
		o.UsePathStyle = true
	})
}

// IsAccessDenied reports whether err is moto's answer to a call the policies forbid.
func IsAccessDenied(err error) bool {
	var apiErr interface{ ErrorCode() string }
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDenied"
}
