package main

// End-to-end: the container credentials endpoint of `fedgate exec
// --ecs-server` and `fedgate serve-credentials`, read by three real
// clients through their default credential chains, given nothing else:
// boto3, the AWS CLI v2 and the JS SDK v3. moto with IAM enforcement
// checks every signed call against the role's policy.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/testkit"
	"fedgate/gateway/wire"
)

const poolContainer = "us-east-1:4d2e6f8a-1b3c-4d5e-8f7a-9b0c1d2e3f4a"

// containerEnv is fedgate with one pool that gives alice two roles: the
// sdk role (read the team bucket, list identity pools) and the admin role.
type containerEnv struct {
	*env
	sdkRole string
	home    *cliHome
	peers   string // testdata/peers
}

func startContainerEnv(t *testing.T) *containerEnv {
	t.Helper()
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		peers.Required(t, "python3 with boto3 (pip install boto3)")
	}
	dir, err := peers.Dir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "client-cognito-identity", "package.json")); err != nil {
		peers.Required(t, "npm package @aws-sdk/client-cognito-identity (npm ci in testdata/peers)")
	}
	e := &containerEnv{env: newEnv(t, teamAccountTrust), peers: dir}
	e.sdkRole = e.moto.CreateRole(t, "sdk-reader", teamAccountTrust, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-data"},
		{"Effect":"Allow","Action":"cognito-identity:ListIdentityPools","Resource":"*"}]}`)
	e.serve(e.startCorpIdP() + fmt.Sprintf(`pools:
  - id: %s
    name: team
    providers: [corp]
    resolution: all_matches
    rules:
      - name: sdk readers
        match: [{claim: groups, op: equals, value: s3-readers}]
        role: %s
      - name: engineers administer
        match: [{claim: groups, op: equals, value: engineering}]
        role: %s
`, poolContainer, e.sdkRole, e.adminRole))
	e.home = newCLIHome(e.env)
	e.home.env = append(e.home.env, "AWS_REGION=us-east-1")
	e.login(t)
	return e
}

// login signs alice in with `fedgate login`, her browser an HTTP client
// through the IdP's pages.
func (e *containerEnv) login(t *testing.T) {
	t.Helper()
	lines, done := e.home.start("login", "--pool", "team", "--no-browser")
	c := browser(t)
	cb := e.idp.Login(t, c, waitLine(t, lines, `^\s+(http://\S+/cli/authorize\?\S+)$`), "alice")
	if status, _, page := get(t, c, cb.String()); status != http.StatusOK {
		t.Fatalf("callback of the CLI sign-in: HTTP %d\n%s", status, page)
	}
	if r := waitDone(t, done, 30*time.Second); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
}

// boto3Result is what containercreds/boto3_client.py prints.
type boto3Result struct {
	Method string     `json:"method"`
	Keys   []string   `json:"keys"`
	Listed [][]string `json:"listed"`
	Errors []string   `json:"errors"`
	Write  string     `json:"write"`
}

func (e *containerEnv) boto3Plan(rounds int, writeKey string) string {
	b, _ := json.Marshal(map[string]any{"endpoint": e.moto.URL, "region": "us-east-1", "bucket": teamBucket, "rounds": rounds, "interval": 1, "write_key": writeKey})
	return string(b)
}

// jsResult is what containercreds/js_client.mjs prints.
type jsResult struct {
	AccessKeyID string `json:"access_key_id"`
	Expiration  string `json:"expiration"`
	Listed      any    `json:"listed"`
	Denied      any    `json:"denied"`
	Error       any    `json:"error"`
}

func (e *containerEnv) jsPlan() string {
	b, _ := json.Marshal(map[string]any{"endpoint": e.moto.URL, "region": "us-east-1", "pool_id": "us-east-1:00000000-0000-0000-0000-000000000000"})
	return string(b)
}

// runIn runs argv on the laptop with stdin and extra environment.
func (h *cliHome) runIn(stdin string, extraEnv []string, name string, args ...string) cliResult {
	h.e.t.Helper()
	if name == "fedgate" {
		name = h.e.bin
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(append([]string(nil), h.env...), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	res := cliResult{stdout: out.String(), stderr: errOut.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		h.e.t.Fatalf("running %s: %v", name, err)
	}
	return res
}

func decodeOut(t *testing.T, r cliResult, v any) {
	t.Helper()
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), v) != nil {
		t.Fatalf("exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
}

// processKey is the access key credential-process gives for the sdk role
// (the cache the endpoint serves from).
func (e *containerEnv) processKey(t *testing.T, args ...string) string {
	t.Helper()
	var proc wire.ProcessCredentials
	decodeOut(t, e.home.run("fedgate", append([]string{"credential-process", "--pool", "team", "--role", e.sdkRole}, args...)...), &proc)
	return proc.AccessKeyID
}

func TestEndToEndContainerCredentials(t *testing.T) {
	e := startContainerEnv(t)
	clis := peers.AWSCLIs(t)
	boto3Script := filepath.Join(e.peers, "containercreds", "boto3_client.py")
	jsScript := filepath.Join(e.peers, "containercreds", "js_client.mjs")
	underExec := func(args ...string) []string {
		return append([]string{"exec", "--ecs-server", "--pool", "team", "--role", e.sdkRole, "--"}, args...)
	}

	t.Run("several roles: the CLI lists them and names --role", func(t *testing.T) {
		r := e.home.run("fedgate", "exec", "--ecs-server", "--pool", "team", "--", "true")
		want := "several roles are open to you; choose one with --role ARN:\n  "
		if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, e.sdkRole) || !strings.Contains(r.stderr, e.adminRole) || strings.Contains(r.stderr, "role_arn") {
			t.Fatalf("exec without --role: exit %d\n%s", r.code, r.stderr)
		}
	})

	t.Run("boto3 under exec --ecs-server", func(t *testing.T) {
		var out boto3Result
		decodeOut(t, e.home.runIn(e.boto3Plan(1, "new.txt"), nil, "fedgate", underExec("python3", boto3Script)...), &out)
		if out.Method != "container-role" || len(out.Errors) != 0 || len(out.Listed) != 1 || !slices.Contains(out.Listed[0], "report.txt") || out.Write != "AccessDenied" {
			t.Fatalf("boto3: %+v; want container-role credentials that list the bucket and may not write", out)
		}
		if key := e.processKey(t); out.Keys[0] != key {
			t.Errorf("boto3 used %s, credential-process gives %s: the endpoint should serve the same cached credentials", out.Keys[0], key)
		}
	})

	t.Run("AWS CLI v2 under exec --ecs-server", func(t *testing.T) {
		r := e.home.run("fedgate", underExec(clis["v2"], "s3api", "list-objects-v2", "--bucket", teamBucket, "--endpoint-url", e.moto.URL)...)
		if r.code != 0 || !strings.Contains(r.stdout, `"report.txt"`) {
			t.Fatalf("aws s3api list-objects-v2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		r = e.home.run("fedgate", underExec(clis["v2"], "s3api", "put-object", "--bucket", teamBucket, "--key", "new.txt", "--endpoint-url", e.moto.URL)...)
		if r.code == 0 || !strings.Contains(r.stderr, "AccessDenied") {
			t.Fatalf("aws s3api put-object: exit %d, want AccessDenied\n%s", r.code, r.stderr)
		}
		var got wire.ProcessCredentials
		decodeOut(t, e.home.run("fedgate", underExec(clis["v2"], "configure", "export-credentials", "--format", "process")...), &got)
		if key := e.processKey(t); got.AccessKeyID != key || got.Expiration == "" {
			t.Errorf("the AWS CLI resolved %+v, credential-process gives %s", got, key)
		}
	})

	t.Run("JS SDK v3 under exec --ecs-server", func(t *testing.T) {
		var out jsResult
		decodeOut(t, e.home.runIn(e.jsPlan(), nil, "fedgate", underExec("node", jsScript)...), &out)
		if out.Error != nil || out.Listed != true || out.Denied != float64(http.StatusForbidden) {
			t.Fatalf("JS SDK: %+v; want credentials allowed ListIdentityPools and refused DescribeIdentityPool", out)
		}
		if key := e.processKey(t); out.AccessKeyID != key || out.Expiration == "" {
			t.Errorf("the JS SDK resolved %s (expiring %q), credential-process gives %s", out.AccessKeyID, out.Expiration, key)
		}
	})

	t.Run("serve-credentials refreshes before expiry and refuses strangers", func(t *testing.T) {
		// 900 s credentials, fetched anew when less than 14m55s remain: a
		// set is due for refresh 5 s after it was vended.
		srv := e.startServer(t, "--duration", "900", "--refresh-before", "14m55s")
		env := []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + srv.uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN=" + srv.token}

		// boto3, one process for 9 s: it asks the endpoint again as its
		// credentials near expiry and gets refreshed ones, every call allowed.
		var out boto3Result
		decodeOut(t, e.home.runIn(e.boto3Plan(9, "new.txt"), env, "python3", boto3Script), &out)
		if len(out.Errors) != 0 || len(out.Listed) != 9 || out.Write != "AccessDenied" {
			t.Fatalf("boto3 across a refresh: %+v", out)
		}
		if distinct := slices.Compact(slices.Clone(out.Keys)); len(distinct) < 2 {
			t.Errorf("boto3 used one access key for 9 s (%v); want a refresh", distinct)
		}

		// The AWS CLI and the JS SDK, each run on either side of a refresh.
		var before, after wire.ProcessCredentials
		decodeOut(t, e.home.runIn("", env, clis["v2"], "configure", "export-credentials", "--format", "process"), &before)
		var jsBefore, jsAfter jsResult
		decodeOut(t, e.home.runIn(e.jsPlan(), env, "node", jsScript), &jsBefore)
		time.Sleep(6 * time.Second)
		decodeOut(t, e.home.runIn("", env, clis["v2"], "configure", "export-credentials", "--format", "process"), &after)
		decodeOut(t, e.home.runIn(e.jsPlan(), env, "node", jsScript), &jsAfter)
		if before.AccessKeyID == "" || before.AccessKeyID == after.AccessKeyID {
			t.Errorf("the AWS CLI got %s, then %s after the credentials were due for refresh", before.AccessKeyID, after.AccessKeyID)
		}
		if jsBefore.AccessKeyID == "" || jsBefore.AccessKeyID == jsAfter.AccessKeyID || jsAfter.Listed != true {
			t.Errorf("the JS SDK got %+v, then %+v after the credentials were due for refresh", jsBefore, jsAfter)
		}
		if exp, err := time.Parse(time.RFC3339, after.Expiration); err != nil || time.Until(exp) < 14*time.Minute || time.Until(exp) > 16*time.Minute {
			t.Errorf("Expiration %q of 900 s credentials", after.Expiration)
		}

		// Another role by its ARN: the admin role may write.
		var admin boto3Result
		adminEnv := []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + strings.TrimSuffix(srv.uri, "/") + "/role-arn/" + e.adminRole, "AWS_CONTAINER_AUTHORIZATION_TOKEN=" + srv.token}
		decodeOut(t, e.home.runIn(e.boto3Plan(1, "by-admin.txt"), adminEnv, "python3", boto3Script), &admin)
		if admin.Write != "ok" || len(admin.Errors) != 0 {
			t.Errorf("boto3 with /role-arn/<admin role>: %+v; want the admin role, which may write", admin)
		}

		// A wrong or missing token is refused, by the SDK's own request too.
		for name, token := range map[string]string{"wrong": strings.Repeat("0", 64), "missing": ""} {
			var out boto3Result
			r := e.home.runIn(e.boto3Plan(1, "x"), []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + srv.uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN=" + token}, "python3", boto3Script)
			if r.code == 0 && json.Unmarshal([]byte(r.stdout), &out) == nil && len(out.Listed) > 0 {
				t.Errorf("boto3 with a %s token got credentials: %+v", name, out)
			}
			req, _ := http.NewRequest(http.MethodGet, srv.uri, nil)
			if token != "" {
				req.Header.Set("Authorization", token)
			}
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("a %s token: %v %v, want 401", name, resp.Status, err)
			} else {
				resp.Body.Close()
			}
		}
		logs := srv.stop(t)
		if !strings.Contains(logs, "refused a credentials request with a wrong authorization token") || !strings.Contains(logs, "refused a credentials request with no authorization token") {
			t.Errorf("refusals not logged:\n%s", logs)
		}
		if strings.Contains(logs, srv.token) {
			t.Error("serve-credentials logged its token")
		}
		if n := strings.Count(logs, "serving credentials for "+e.sdkRole); n < 3 {
			t.Errorf("%d sets of credentials for the sdk role; want a first set and refreshes:\n%s", n, logs)
		}
	})
}

// credServer is a running `fedgate serve-credentials`.
type credServer struct {
	uri, token string
	cmd        *exec.Cmd
	stderr     *testkit.LogBuffer
}

var exportVar = regexp.MustCompile(`^export (AWS_CONTAINER_[A-Z_]+)=(\S+)$`)

func (e *containerEnv) startServer(t *testing.T, args ...string) *credServer {
	t.Helper()
	cmd := exec.Command(e.bin, append([]string{"serve-credentials", "--pool", "team", "--role", e.sdkRole}, args...)...)
	cmd.Env = e.home.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &credServer{cmd: cmd, stderr: &testkit.LogBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	sc := bufio.NewScanner(stdout)
	for s.uri == "" || s.token == "" {
		if !sc.Scan() {
			_ = cmd.Wait()
			t.Fatalf("serve-credentials printed no endpoint:\n%s", s.stderr.String())
		}
		if m := exportVar.FindStringSubmatch(sc.Text()); m != nil && m[1] == "AWS_CONTAINER_CREDENTIALS_FULL_URI" {
			s.uri = m[2]
		} else if m != nil && m[1] == "AWS_CONTAINER_AUTHORIZATION_TOKEN" {
			s.token = m[2]
		}
	}
	if !strings.HasPrefix(s.uri, "http://127.0.0.1:") || len(s.token) != 64 {
		t.Fatalf("endpoint %s, token of %d characters", s.uri, len(s.token))
	}
	return s
}

// stop interrupts the server as Ctrl-C does and returns its stderr.
func (s *credServer) stop(t *testing.T) string {
	t.Helper()
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve-credentials after Ctrl-C: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("serve-credentials did not stop on Ctrl-C")
	}
	return s.stderr.String()
}
