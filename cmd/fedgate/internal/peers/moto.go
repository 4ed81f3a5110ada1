package peers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// STSTap is a recording proxy in front of moto's STS: point fedgate's STS
// endpoint at URL, and the test sees each AssumeRoleWith* call fedgate made.
type STSTap struct {
	URL    string
	mu     sync.Mutex
	calls  []url.Values
	onCall func(url.Values)
}

// OnCall runs f on each AssumeRoleWith* call before it reaches moto, so a
// test can look at the world as it is when STS receives a token.
func (tp *STSTap) OnCall(f func(form url.Values)) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.onCall = f
}

// StartSTSTap starts the proxy and stops it when the test ends.
func (m *Moto) StartSTSTap(t testing.TB) *STSTap {
	t.Helper()
	motoURL, err := url.Parse(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	tap := &STSTap{}
	proxy := httputil.NewSingleHostReverseProxy(motoURL)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tap.record(r)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tap.URL = srv.URL
	return tap
}

func (tp *STSTap) record(r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	if strings.HasPrefix(form.Get("Action"), "AssumeRoleWith") {
		tp.mu.Lock()
		tp.calls = append(tp.calls, form)
		onCall := tp.onCall
		tp.mu.Unlock()
		if onCall != nil {
			onCall(form)
		}
	}
}

// Calls are the forms of the calls so far, oldest first.
func (tp *STSTap) Calls() []url.Values {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return slices.Clone(tp.calls)
}

// Count is how many calls were made.
func (tp *STSTap) Count() int { return len(tp.Calls()) }

// Last is the form of the last call; without one the test stops.
func (tp *STSTap) Last(t testing.TB) url.Values {
	t.Helper()
	calls := tp.Calls()
	if len(calls) == 0 {
		t.Fatal("no STS call was made")
	}
	return calls[len(calls)-1]
}

// Snapshot is the number of calls and the web identity token of the last.
func (tp *STSTap) Snapshot() (calls int, last string) {
	all := tp.Calls()
	if len(all) > 0 {
		last = all[len(all)-1].Get("WebIdentityToken")
	}
	return len(all), last
}

// Tokens are the web identity tokens of every call so far.
func (tp *STSTap) Tokens() []string {
	var out []string
	for _, c := range tp.Calls() {
		out = append(out, c.Get("WebIdentityToken"))
	}
	return out
}
