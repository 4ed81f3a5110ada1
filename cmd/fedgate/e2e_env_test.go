package main

// The end-to-end harness: the real fedgate binary, a real upstream OIDC IdP
// (npm oidc-provider), and moto's STS/IAM/S3 with IAM enforcement, all over
// real sockets. An STS tap in front of moto records what fedgate sends, so
// tests can verify the tokens fedgate minted with an independent library.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"fedgate/cmd/fedgate/internal/peers"
	_ "fedgate/gateway/store" // registers the sqlite driver for the store checks
)

const (
	e2eClientID     = "fedgate-web"
	e2eClientSecret = "fedgate-web-secret"
	e2eMobileClient = "fedgate-mobile"
	e2eMasterKey    = "3q2+7w0eHh4fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8=" // test-only key
	poolGatewayID   = "us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11"
	poolUpstreamID  = "us-east-1:1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
	poolPickerID    = "us-east-1:9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
	teamBucket      = "team-data"
	otherBucket     = "other-data"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// fedgateBinary builds the real binary once per test run.
func fedgateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fedgate-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "fedgate")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// stsTap forwards STS calls to moto and remembers each web identity token.
type stsTap struct {
	mu     sync.Mutex
	tokens []string
	calls  int
}

func (tp *stsTap) record(r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if strings.HasPrefix(form.Get("Action"), "AssumeRoleWith") {
		tp.calls++
		tp.tokens = append(tp.tokens, form.Get("WebIdentityToken"))
	}
}

func (tp *stsTap) snapshot() (calls int, last string) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if len(tp.tokens) > 0 {
		last = tp.tokens[len(tp.tokens)-1]
	}
	return tp.calls, last
}

type env struct {
	t          *testing.T
	bin        string
	dir        string
	configPath string
	url        string
	moto       *peers.Moto
	idp        *peers.OIDC
	tap        *stsTap
	readerRole string
	adminRole  string
	logs       *syncWriter // fedgate's stderr (JSON logs)
	extraYAML  string      // appended to the config by envOptions
	proc       *os.Process // the running `fedgate serve` (crash tests kill it)
	extraEnv   []string    // more environment for fedgate, set by envOptions (postgres: FEDGATE_STORE_DSN)
}

// envOption extends the environment before fedgate starts: it may create
// resources in the peers and returns YAML appended to the config (entries
// of the pools list first, then top-level sections).
type envOption func(e *env) string

// startEnv starts moto, the IdP, the STS tap and fedgate.
func startEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, bin: fedgateBinary(t), dir: t.TempDir(), tap: &stsTap{}}
	e.moto = peers.StartMoto(t)
	port := freePort(t)
	e.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	e.idp = peers.StartOIDC(t, []peers.OIDCClient{
		{ID: e2eClientID, Secret: e2eClientSecret, RedirectURIs: []string{e.url + "/callback"}},
		{ID: e2eMobileClient, RedirectURIs: []string{"com.example.app:/callback"}},
	})

	tapURL := startSTSTap(t, e.moto, e.tap)

	e.readerRole, e.adminRole = setupTeamAccount(t, e.moto, teamAccountTrust)
	for _, o := range opts {
		e.extraYAML += o(e)
	}

	e.configPath = filepath.Join(e.dir, "fedgate.yaml")
	e.writeConfig(port, tapURL)
	e.start()
	return e
}

func (e *env) writeConfig(port int, stsURL string) {
	cfg := fmt.Sprintf(`
server:
  listen: 127.0.0.1:%d
  public_url: %s
  reload_interval: 1s
store:
  path: fedgate.db
keys:
  master_key: ${FEDGATE_MASTER_KEY}
sts:
  region: us-east-1
  endpoint: %s
providers:
  - id: corp
    type: oidc
    display_name: Corp SSO
    issuer: %s
    client_id: %s
    client_secret: ${CORP_CLIENT_SECRET}
    scopes: [openid, profile, email, groups]
    extra_audiences: [%s]
pools:
  - id: %s
    name: team
    display_name: Team account
    providers: [corp]
    principal_tags: {department: department}
    rules:
      - name: s3 readers
        match: [{claim: groups, op: equals, value: s3-readers}]
        role: %s
  - id: %s
    name: team-upstream
    providers: [corp]
    mode: upstream-token
    rules:
      - name: s3 readers
        match: [{claim: groups, op: equals, value: s3-readers}]
        role: %s
  - id: %s
    name: picker
    providers: [corp]
    resolution: all_matches
    rules:
      - name: engineers
        match: [{claim: groups, op: equals, value: engineering}]
        role: %s
      - name: admins
        cel: '"admins" in claims.groups && claims.email.endsWith("@example.com")'
        role: %s
`, port, e.url, stsURL, e.idp.Issuer, e2eClientID, e2eMobileClient,
		poolGatewayID, e.readerRole, poolUpstreamID, e.readerRole, poolPickerID, e.readerRole, e.adminRole)
	cfg += e.extraYAML
	if err := os.WriteFile(e.configPath, []byte(cfg), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) cmdEnv() []string {
	return append(append(os.Environ(), "FEDGATE_MASTER_KEY="+e2eMasterKey, "CORP_CLIENT_SECRET="+e2eClientSecret, "FEDGATE_LOG_LEVEL=debug"), e.extraEnv...)
}

// start runs `fedgate serve` and waits until it is ready.
func (e *env) start() {
	t := e.t
	cmd := exec.Command(e.bin, "serve", "--config", e.configPath)
	cmd.Env = e.cmdEnv()
	w := &syncWriter{w: &bytes.Buffer{}}
	e.logs = w
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e.proc = cmd.Process
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("fedgate log:\n%s", w.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("fedgate exited early: %v\n%s", err, w.String())
		default:
		}
		resp, err := http.Get(e.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("fedgate not ready in 30s\n%s", w.String())
}

// fedgate runs a subcommand of the binary against the test config.
func (e *env) fedgate(args ...string) (string, error) {
	cmd := exec.Command(e.bin, append(args, "--config", e.configPath)...)
	cmd.Env = e.cmdEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// browser is a cookie-keeping HTTP client that does not follow redirects
// back into fedgate on its own, so tests can look at each hop.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// signIn runs the browser flow up to the callback URL the IdP sends back.
func (e *env) signIn(c *http.Client, pool, user string) *url.URL {
	return e.idp.Login(e.t, c, e.url+"/login/"+pool+"/corp", user)
}

// get fetches a page and returns status, headers and body.
func get(t *testing.T, c *http.Client, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var exportLine = regexp.MustCompile(`export (AWS_[A-Z_]+)=['"]?([^'"\n<]+)`)

// credsFromPage reads the export lines of the credentials page.
func credsFromPage(t *testing.T, page string) aws.Credentials {
	t.Helper()
	vals := map[string]string{}
	for _, m := range exportLine.FindAllStringSubmatch(html.UnescapeString(page), -1) {
		vals[m[1]] = m[2]
	}
	c := aws.Credentials{AccessKeyID: vals["AWS_ACCESS_KEY_ID"], SecretAccessKey: vals["AWS_SECRET_ACCESS_KEY"], SessionToken: vals["AWS_SESSION_TOKEN"]}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" {
		t.Fatalf("credentials page has no export lines:\n%s", page)
	}
	return c
}

type apiResult struct {
	status int
	body   map[string]any
}

func (e *env) api(token string, body any) apiResult {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, e.url+"/api/v1/credentials", bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := apiResult{status: resp.StatusCode}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out.body); err != nil {
		e.t.Fatalf("API answered non-JSON (HTTP %d): %s", resp.StatusCode, b)
	}
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Cache-Control") != "no-store" {
		e.t.Errorf("credentials response Cache-Control = %q, want no-store", resp.Header.Get("Cache-Control"))
	}
	return out
}

func (r apiResult) creds(t *testing.T) aws.Credentials {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("API: HTTP %d %v", r.status, r.body)
	}
	s := func(k string) string { v, _ := r.body[k].(string); return v }
	return aws.Credentials{AccessKeyID: s("access_key_id"), SecretAccessKey: s("secret_access_key"), SessionToken: s("session_token")}
}

// aliceToken is a real upstream ID token from the IdP for alice.
func (e *env) token(sub, aud string, ttl time.Duration) string {
	claims := map[string]any{
		"alice": map[string]any{"email": "alice@example.com", "groups": []string{"engineering", "s3-readers"}, "department": "eng"},
		"bob":   map[string]any{"email": "bob@example.com", "groups": []string{"sales"}, "department": "sales"},
		"carol": map[string]any{"email": "carol@example.com", "groups": []string{"engineering", "admins"}, "department": "eng"},
	}[sub].(map[string]any)
	return e.idp.MintIDToken(e.t, sub, aud, claims, ttl)
}

// assertLeastPrivilege proves the credentials are the reader role's: the
// team bucket lists and reads, writing and the other bucket are denied.
func (e *env) assertLeastPrivilege(creds aws.Credentials) {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s3c := peers.S3With(e.moto, creds)
	out, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(teamBucket)})
	if err != nil {
		t.Fatalf("listing %s with vended credentials: %v", teamBucket, err)
	}
	if len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "report.txt" {
		t.Fatalf("listing %s: got %d objects", teamBucket, len(out.Contents))
	}
	if _, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(teamBucket), Key: aws.String("report.txt")}); err != nil {
		t.Fatalf("reading report.txt: %v", err)
	}
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(teamBucket), Key: aws.String("new.txt"), Body: strings.NewReader("x")})
	if !peers.IsAccessDenied(err) {
		t.Fatalf("PutObject with reader credentials: err = %v, want AccessDenied", err)
	}
	_, err = s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(otherBucket)})
	if !peers.IsAccessDenied(err) {
		t.Fatalf("listing %s with reader credentials: err = %v, want AccessDenied", otherBucket, err)
	}
}

// identityCount reads how many identities the store holds.
func (e *env) identityCount() int {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "fedgate.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM identities`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// teamAccountTrust is the OIDC trust the team roles get in moto (which does
// not evaluate it; the trust policies fedgate prints are tested apart).
const teamAccountTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/fedgate"},"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"]}]}`

// setupTeamAccount makes the account every end-to-end test vends into: a
// reader role limited to listing and reading team-data, an admin role, the
// team bucket and another bucket the reader must not touch.
func setupTeamAccount(t *testing.T, m *peers.Moto, trust string) (readerRole, adminRole string) {
	t.Helper()
	readerRole = m.CreateRole(t, "team-data-reader", trust, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-data"},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::team-data/*"}]}`)
	adminRole = m.CreateRole(t, "platform-admin", trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	m.CreateBucket(t, teamBucket, map[string]string{"report.txt": "quarterly numbers"})
	m.CreateBucket(t, otherBucket, map[string]string{"secret.txt": "not for readers"})
	return readerRole, adminRole
}

// startSTSTap puts a recording proxy in front of moto's STS and returns its
// URL, the STS endpoint fedgate is configured with.
func startSTSTap(t *testing.T, m *peers.Moto, tap interface{ record(*http.Request) }) string {
	t.Helper()
	motoURL, err := url.Parse(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(motoURL)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tap.record(r)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
