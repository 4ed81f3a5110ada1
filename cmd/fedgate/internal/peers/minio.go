//go:build unix

package peers

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"fedgate/gateway/testkit"
)

// MinIOVersion is the MinIO the tests and the side-by-side benchmark run:
// MinIO publishes no semver tags, and this is the module proxy's
// pseudo-version of its RELEASE of 2026-02-12. .ci/run installs it with
// go install github.com/minio/minio@MinIOVersion.
const MinIOVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"

// MinIO is a running MinIO whose STS trusts one OpenID provider with a
// role policy (MinIO's "role policy" mode).
type MinIO struct {
	URL  string
	Role string // the role ARN MinIO gives the OpenID provider
}

// MinIORole is the role ARN MinIO names an OpenID provider with a role
// policy: arn:minio:iam:::role/ and base64url(sha1(client id)).
func MinIORole(clientID string) string {
	sum := sha1.Sum([]byte(clientID))
	return "arn:minio:iam:::role/" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// minioBinary finds minio on PATH or in GOPATH/bin.
func minioBinary() (string, bool) {
	if p, err := exec.LookPath("minio"); err == nil {
		return p, true
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(gopath, "bin", "minio")
	if _, err := os.Stat(p); err == nil {
		return p, true
	}
	return "", false
}

// StartMinIO runs MinIO on port, trusting the OpenID provider discovered at
// configURL for tokens whose audience is clientID, with the readwrite
// policy for its role. MinIO fetches the discovery document on start, so
// the issuer must be up first.
func StartMinIO(t testing.TB, port int, configURL, clientID string) *MinIO {
	t.Helper()
	bin, ok := minioBinary()
	if !ok {
		Required(t, "minio (go install github.com/minio/minio@"+MinIOVersion+")")
		return nil
	}
	m := &MinIO{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Role: MinIORole(clientID)}
	cmd := exec.Command(bin, "server", t.TempDir(), "--address", fmt.Sprintf("127.0.0.1:%d", port), "--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER=fedgate-test", "MINIO_ROOT_PASSWORD=fedgate-test-secret", "MINIO_BROWSER=off",
		"MINIO_IDENTITY_OPENID_CONFIG_URL="+configURL,
		"MINIO_IDENTITY_OPENID_CLIENT_ID="+clientID,
		"MINIO_IDENTITY_OPENID_ROLE_POLICY=readwrite",
	)
	p, err := runProcess(t, "minio", cmd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := testkit.WaitHTTP(m.URL+"/minio/health/live", startTimeout, p.done()); err != nil {
		t.Fatalf("minio: %v\n%s", err, p.output.String())
	}
	return m
}

// S3 is an S3 client of MinIO with creds.
func (m *MinIO) S3(creds aws.Credentials) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(m.URL),
		UsePathStyle: true,
		Credentials:  aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
	})
}
