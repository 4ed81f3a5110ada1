package peers

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// SDKResult is what the boto3 and JS programs print.
type SDKResult struct {
	IdentityID string `json:"identity_id"`
	Token      string `json:"token"`
	// DeveloperUsers is a backend's LookupDeveloperIdentity answer.
	DeveloperUsers []string `json:"developer_users"`
	Credentials    *struct {
		AccessKeyID  string `json:"access_key_id"`
		SecretKey    string `json:"secret_key"`
		SessionToken string `json:"session_token"`
		Expiration   string `json:"expiration"`
	} `json:"credentials"`
	Error *struct {
		Code    string `json:"code"` // boto3
		Name    string `json:"name"` // JS
		Message string `json:"message"`
		Status  int    `json:"status"`
	} `json:"error"`
}

// Creds are the credentials the SDK got; without them the test stops.
func (r SDKResult) Creds(t testing.TB) aws.Credentials {
	t.Helper()
	if r.Error != nil || r.Credentials == nil {
		t.Fatalf("SDK program got no credentials: %+v", r.Error)
	}
	if _, err := time.Parse(time.RFC3339, strings.Replace(r.Credentials.Expiration, "+00:00", "Z", 1)); err != nil {
		t.Errorf("the SDK could not read Expiration as a time: %q", r.Credentials.Expiration)
	}
	return aws.Credentials{AccessKeyID: r.Credentials.AccessKeyID, SecretAccessKey: r.Credentials.SecretKey, SessionToken: r.Credentials.SessionToken}
}

// sdkEnv is the environment of an SDK program: no AWS credentials or
// profiles of the machine, so the calls are as unsigned as an app's.
func sdkEnv(t testing.TB) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	return append(out, "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none)
}

// RunBoto3 runs testdata/peers/cognito/boto3_client.py, a boto3 app of
// fedgate's Cognito Identity API, with plan (what to call, where, with
// which logins) on stdin.
func RunBoto3(t testing.TB, plan map[string]any) SDKResult {
	t.Helper()
	dir := peerDir(t)
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		Required(t, "python3 with boto3 (pip install boto3)")
	}
	return runSDKProgram(t, exec.Command("python3", filepath.Join(dir, "cognito", "boto3_client.py")), plan)
}

// RunJS is RunBoto3 for testdata/peers/cognito/js_client.mjs, an app of
// the JS SDK v3 (fromCognitoIdentityPool, or the client with plan's mode
// "client").
func RunJS(t testing.TB, plan map[string]any) SDKResult {
	t.Helper()
	dir := peerDir(t)
	for _, pkg := range []string{"@aws-sdk/credential-providers", "@aws-sdk/client-cognito-identity"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			Required(t, "npm package "+pkg+" (npm ci in "+peersSubdir+")")
		}
	}
	return runSDKProgram(t, exec.Command("node", filepath.Join(dir, "cognito", "js_client.mjs")), plan)
}

func runSDKProgram(t testing.TB, cmd *exec.Cmd, plan map[string]any) SDKResult {
	t.Helper()
	in, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = bytes.NewReader(in), &stdout, &stderr, sdkEnv(t)
	// An https endpoint with a test CA: the SDKs' own way to trust it.
	if ca, _ := plan["ca_bundle"].(string); ca != "" {
		cmd.Env = append(cmd.Env, "AWS_CA_BUNDLE="+ca, "NODE_EXTRA_CA_CERTS="+ca)
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(cmd.Args[len(cmd.Args)-1]), err, stderr.String())
	}
	var out SDKResult
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%s printed no result: %v\n%s\n%s", filepath.Base(cmd.Args[len(cmd.Args)-1]), err, stdout.String(), stderr.String())
	}
	return out
}
