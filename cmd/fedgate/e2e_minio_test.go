package main

// fedgate as the identity pool in front of MinIO: MinIO's STS trusts
// fedgate's issuer (discovery + JWKS) in role-policy mode, fedgate runs with
// sts.flavor minio and maps claims to MinIO's role ARN, and the credentials
// it vends work against MinIO's S3.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/testkit"
)

func TestEndToEndMinIOAsSTS(t *testing.T) {
	e := &env{t: t, bin: fedgateBinary(t), dir: t.TempDir()}
	e.port = testkit.FreePort(t)
	e.url = fmt.Sprintf("http://127.0.0.1:%d", e.port)
	e.publicURL = e.url
	minioPort := testkit.FreePort(t)
	role := peers.MinIORole(poolGatewayID)
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:%d
  public_url: %s
  allow_upstream_cidrs: [127.0.0.0/8] # the IdP runs on loopback
store:
  path: fedgate.db
keys:
  master_key: ${FEDGATE_MASTER_KEY}
sts:
  region: us-east-1
  endpoint: http://127.0.0.1:%d
  flavor: minio
`, e.port, e.url, minioPort) + e.startCorpIdP() + fmt.Sprintf(`pools:
  - id: %s
    name: team
    providers: [corp]
    rules:
      - name: s3 readers
        match: [{claim: groups, op: equals, value: s3-readers}]
        role: %s
`, poolGatewayID, role)
	e.configPath = filepath.Join(e.dir, "fedgate.yaml")
	if err := os.WriteFile(e.configPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e.start()
	m := peers.StartMinIO(t, minioPort, e.url+"/.well-known/openid-configuration", poolGatewayID)

	// MinIO answers its health check before its IAM subsystem has loaded
	// the OpenID configuration; until then the role is "not defined".
	token := e.token("alice", e2eClientID, 5*time.Minute)
	var res apiResult
	testkit.Eventually(30*time.Second, 250*time.Millisecond, func() bool {
		res = e.api(token, map[string]any{"pool": "team"})
		return res.status != http.StatusBadGateway || !strings.Contains(e.logs.String(), "is not defined")
	})
	creds := res.creds(t)
	if creds.AccessKeyID == "" || creds.SessionToken == "" {
		t.Fatalf("MinIO vended no session credentials: %v", res.body)
	}
	// The role policy is readwrite: the credentials create, write and read.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := m.S3(creds)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("team-data")}); err != nil {
		t.Fatalf("CreateBucket with the vended credentials: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("team-data"), Key: aws.String("report.txt"), Body: strings.NewReader("q3")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("team-data"), Key: aws.String("report.txt")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(body) != "q3" {
		t.Errorf("read back %q, want q3", body)
	}
	// Made-up credentials are refused: MinIO really checks them.
	bad := creds
	bad.SecretAccessKey = "not-the-secret"
	if _, err := m.S3(bad).ListBuckets(ctx, &s3.ListBucketsInput{}); err == nil {
		t.Error("MinIO accepted a wrong secret key")
	}
	// No rule for bob: refused by fedgate, nothing asked of MinIO.
	if r := e.api(e.token("bob", e2eClientID, 5*time.Minute), map[string]any{"pool": "team"}); r.status != http.StatusForbidden {
		t.Errorf("bob: HTTP %d %v, want 403", r.status, r.body)
	}
}
