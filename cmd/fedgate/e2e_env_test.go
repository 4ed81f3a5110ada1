package main

// The end-to-end harness: the real fedgate binary, a real upstream OIDC IdP
// (npm oidc-provider), and moto's STS/IAM/S3 with IAM enforcement, all over
// real sockets. An STS tap in front of moto records what fedgate sends, so
// tests can verify the tokens fedgate minted with an independent library.
// Every environment (this OIDC one, the SAML ones, the replicas) is built
// here, and the tests' HTTP goes through send as a browser or an app sends it.

import (
	"cmp"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"fedgate/cmd/fedgate/internal/peers"
	_ "fedgate/gateway/store" // registers the sqlite driver for the store checks
	"fedgate/gateway/testkit"
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

type env struct {
	t          *testing.T
	bin        string
	dir        string
	configPath string
	config     string // the configuration after the sections every environment shares
	port       int    // fedgate's listen port
	url        string // this fedgate's address (a replica's own)
	publicURL  string // server.public_url, shared by the replicas
	moto       *peers.Moto
	idp        *peers.OIDC   // the upstream OIDC IdP, where the environment has one
	tap        *peers.STSTap // fedgate's STS endpoint
	readerRole string
	adminRole  string
	logs       *testkit.LogBuffer // fedgate's stderr (JSON logs)
	proc       *os.Process        // the running `fedgate serve` (crash tests kill it)
	exited     chan struct{}      // closed when that process has exited
	cmd        *exec.Cmd          // its command, for its exit status
	extraEnv   []string           // more environment for fedgate (postgres: FEDGATE_STORE_DSN; the admin API token)
	stsURL     string             // fedgate's STS endpoint when not the tap (a fault proxy in front of it)
	stsTimeout string             // sts.timeout when not the default
	storePath  string             // store.path when not fedgate.db
	wrap       []string           // a command fedgate serve runs under (unshare, for a file system of its own)
	serverYAML string             // more keys of the server section (TLS, ops_listen), each line indented two spaces
	keysYAML   string             // more keys of the keys section (publish), each line indented two spaces
	readyURL   string             // where start waits for readiness; e.url+"/readyz" when empty
	client     *http.Client       // reaches e.url (a TLS environment trusts its test CA); http.DefaultClient when nil
}

// newEnv starts what every environment has: moto with the team account
// (its roles trusting trust) and the STS tap in front of it; and it picks
// fedgate's port. The caller adds upstream IdPs, then calls serve.
func newEnv(t *testing.T, trust string) *env {
	t.Helper()
	e := &env{t: t, bin: fedgateBinary(t), dir: t.TempDir()}
	e.moto = peers.StartMoto(t)
	e.port = testkit.FreePort(t)
	e.url = fmt.Sprintf("http://127.0.0.1:%d", e.port)
	e.publicURL = e.url
	e.readerRole, e.adminRole = setupTeamAccount(t, e.moto, trust)
	e.tap = e.moto.StartSTSTap(t)
	return e
}

// serve writes the configuration, the sections every environment shares
// followed by body, and starts fedgate on it.
func (e *env) serve(body string) {
	e.config = body
	e.configPath = filepath.Join(e.dir, "fedgate.yaml")
	e.writeConfig()
	e.start()
}

func (e *env) writeConfig() {
	cfg := fmt.Sprintf(`
server:
  listen: 127.0.0.1:%d
  public_url: %s
  reload_interval: 1s
  allow_upstream_cidrs: [127.0.0.0/8, "::1/128"] # the peers run on loopback
%sstore:
  path: %s
keys:
  master_key: ${FEDGATE_MASTER_KEY}
%ssts:
  region: us-east-1
  endpoint: %s
%s`, e.port, e.publicURL, e.serverYAML, cmp.Or(e.storePath, "fedgate.db"), e.keysYAML, e.stsEndpoint(), e.stsTimeoutLine()) + e.config
	if err := os.WriteFile(e.configPath, []byte(cfg), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) stsEndpoint() string {
	if e.stsURL != "" {
		return e.stsURL
	}
	return e.tap.URL
}

func (e *env) stsTimeoutLine() string {
	if e.stsTimeout == "" {
		return ""
	}
	return "  timeout: " + e.stsTimeout + "\n"
}

// startCorpIdP starts oidc-provider with fedgate's web client and clients,
// and returns the providers section that names it corp.
func (e *env) startCorpIdP(clients ...peers.OIDCClient) string {
	web := peers.OIDCClient{ID: e2eClientID, Secret: e2eClientSecret, RedirectURIs: []string{e.url + "/callback"}}
	e.idp = peers.StartOIDC(e.t, append([]peers.OIDCClient{web}, clients...))
	return fmt.Sprintf(`providers:
  - id: corp
    type: oidc
    display_name: Corp SSO
    issuer: %s
    client_id: %s
    client_secret: ${CORP_CLIENT_SECRET}
    scopes: [openid, profile, email, groups]
`, e.idp.Issuer, e2eClientID)
}

// readersRule is the rules of a pool (lines of a pools entry) that give
// role to members of s3-readers.
func readersRule(role string) string {
	return `    rules:
      - name: s3 readers
        match: [{claim: groups, op: equals, value: s3-readers}]
        role: ` + role
}

// adminToken turns the admin API token on with role, and hands the token
// to fedgate (and its subcommands) in their environment.
func (e *env) adminToken(role string) string {
	e.extraEnv = append(e.extraEnv, e2eAdminTokenEnv+"="+e2eAdminToken)
	return "admin:\n  api_token_env: " + e2eAdminTokenEnv + "\n  api_token_role: " + role + "\n"
}

// envOption extends the environment before fedgate starts: it may create
// resources in the peers and returns YAML appended to the config (entries
// of the pools list first, then top-level sections).
type envOption func(e *env) string

// startEnv starts moto, the IdP, the STS tap and fedgate.
func startEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	e := newEnv(t, teamAccountTrust)
	cfg := e.startCorpIdP(peers.OIDCClient{ID: e2eMobileClient, RedirectURIs: []string{"com.example.app:/callback"}})
	// corp also takes the mobile app's tokens.
	cfg += fmt.Sprintf(`    extra_audiences: [%s]
pools:
  - id: %s
    name: team
    display_name: Team account
    providers: [corp]
    principal_tags: {department: department}
%s
  - id: %s
    name: team-upstream
    providers: [corp]
    mode: upstream-token
%s
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
`, e2eMobileClient, poolGatewayID, readersRule(e.readerRole), poolUpstreamID, readersRule(e.readerRole), poolPickerID, e.readerRole, e.adminRole)
	for _, o := range opts {
		cfg += o(e)
	}
	e.serve(cfg)
	return e
}

// fedgateEnv is the environment the harness gives fedgate, beyond its own.
func (e *env) fedgateEnv() []string {
	return append([]string{"FEDGATE_MASTER_KEY=" + e2eMasterKey, "CORP_CLIENT_SECRET=" + e2eClientSecret, "FEDGATE_LOG_LEVEL=debug"}, e.extraEnv...)
}

func (e *env) cmdEnv() []string {
	return append(os.Environ(), e.fedgateEnv()...)
}

// launcherEnv names the program that runs fedgate's serve and store
// commands instead of the host binary: deploy/test/podman-launch runs them
// in the image. It receives fedgate's arguments, the names of the variables
// meant for fedgate in FEDGATE_E2E_PASS_ENV and the folder to share in
// FEDGATE_E2E_MOUNT.
const launcherEnv = "FEDGATE_E2E_LAUNCHER"

// command is `fedgate args...`, through the launcher when one is set.
func (e *env) command(args ...string) *exec.Cmd {
	launcher := os.Getenv(launcherEnv)
	if launcher == "" {
		cmd := exec.Command(e.bin, args...)
		cmd.Env = e.cmdEnv()
		return cmd
	}
	e.t.Logf("fedgate %s through %s=%s", args[0], launcherEnv, launcher)
	var names []string
	for _, kv := range e.fedgateEnv() {
		names = append(names, strings.SplitN(kv, "=", 2)[0])
	}
	cmd := exec.Command(launcher, args...)
	cmd.Env = append(e.cmdEnv(), "FEDGATE_E2E_PASS_ENV="+strings.Join(names, " "), "FEDGATE_E2E_MOUNT="+e.dir)
	return cmd
}

// start runs `fedgate serve` and waits until it is ready.
func (e *env) start() {
	t := e.t
	cmd := e.command("serve", "--config", e.configPath)
	if len(e.wrap) > 0 {
		// The wrapper (unshare, for a file system of fedgate's own) runs
		// the command line as it is, with the same environment.
		wrapped := exec.Command(e.wrap[0], append(slices.Clone(e.wrap[1:]), cmd.Args...)...)
		wrapped.Env = cmd.Env
		cmd = wrapped
	}
	logs := &testkit.LogBuffer{}
	e.logs = logs
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e.proc, e.cmd = cmd.Process, cmd
	done, exited := make(chan error, 1), make(chan struct{})
	e.exited = exited
	go func() { done <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("fedgate log:\n%s", logs.String())
		}
	})
	ready := e.readyURL
	if ready == "" {
		ready = e.url + "/readyz"
	}
	if err := testkit.WaitHTTPWith(e.httpClient(), ready, 30*time.Second, done); err != nil {
		t.Fatalf("fedgate: %v\n%s", err, logs.String())
	}
}

// httpClient reaches this fedgate.
func (e *env) httpClient() *http.Client {
	if e.client != nil {
		return e.client
	}
	return http.DefaultClient
}

// fedgate runs a subcommand against the test config, through the launcher
// when one is set.
func (e *env) fedgate(args ...string) (string, error) {
	out, err := e.command(append(args, "--config", e.configPath)...).CombinedOutput()
	return string(out), err
}

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

// browser is a cookie-keeping HTTP client that does not follow redirects
// back into fedgate on its own, so tests can look at each hop.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("answer is not JSON (HTTP %d): %s", r.status, r.body)
	}
}

// code is the error code of a JSON error answer.
func (r response) code(t *testing.T) string {
	var e struct{ Code string }
	r.json(t, &e)
	return e.Code
}

// maxAnswer bounds what a test reads of one answer.
const maxAnswer = 4 << 20

// send makes one request with c (http.DefaultClient when nil); header is
// name, value pairs, and a pair with an empty value is not sent.
func send(t *testing.T, c *http.Client, method, u, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	return response{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

// bearer is the Authorization value for token; none without a token.
func bearer(token string) string {
	if token == "" {
		return ""
	}
	return "Bearer " + token
}

// get fetches a page and returns status, headers and body.
func get(t *testing.T, c *http.Client, u string) (int, http.Header, string) {
	t.Helper()
	r := send(t, c, http.MethodGet, u, "")
	return r.status, r.header, r.body
}

// postForm posts a form as browser c does and returns status and page.
func postForm(t *testing.T, c *http.Client, u string, v url.Values) (int, string) {
	t.Helper()
	r := send(t, c, http.MethodPost, u, v.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	return r.status, r.body
}

func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in:\n%s", pattern, s)
	}
	return m[1]
}

// screenshotDir is where browser tests save screenshots:
// $FEDGATE_SCREENSHOTS, or the test's artifact directory (kept under
// -outputdir when go test runs with -artifacts, a temporary folder
// otherwise).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("FEDGATE_SCREENSHOTS")
	if dir == "" {
		return t.ArtifactDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// signIn runs the browser flow up to the callback URL the IdP sends back.
func (e *env) signIn(c *http.Client, pool, user string) *url.URL {
	return e.idp.Login(e.t, c, e.url+"/login/"+pool+"/corp", user)
}

// signInPage signs user in to pool through the IdP's pages in a new
// browser and returns the browser and the page fedgate's callback answers.
func (e *env) signInPage(pool, user string) (*http.Client, response) {
	e.t.Helper()
	c := browser(e.t)
	return c, send(e.t, c, http.MethodGet, e.signIn(c, pool, user).String(), "")
}

var portalRole = regexp.MustCompile(`name="pool" value="([^"]+)">\s*<input type="hidden" name="role" value="([^"]+)"`)

// pickOnlyRole does what a person with one role does on the portal a
// sign-in lands on: press its "Get credentials". It returns the
// credentials page.
func pickOnlyRole(t *testing.T, c *http.Client, base, portal string) string {
	t.Helper()
	roles := portalRole.FindAllStringSubmatch(portal, -1)
	if len(roles) != 1 {
		t.Fatalf("the portal offers %d roles, want 1:\n%s", len(roles), portal)
	}
	csrf := regexpFind(t, portal, `name="csrf" value="([^"]+)"`)
	status, page := postForm(t, c, base+"/roles", url.Values{"csrf": {csrf}, "pool": {roles[0][1]}, "role": {roles[0][2]}})
	if status != http.StatusOK {
		t.Fatalf("getting the credentials of %s: HTTP %d\n%s", roles[0][2], status, page)
	}
	return page
}

// signInCreds signs user in to pool in a new browser and gets the
// credentials of the one role the portal offers there.
func (e *env) signInCreds(pool, user string) (*http.Client, string) {
	e.t.Helper()
	c, r := e.signInPage(pool, user)
	if r.status != http.StatusOK {
		e.t.Fatalf("sign-in to %s as %s: HTTP %d\n%s", pool, user, r.status, r.body)
	}
	return c, pickOnlyRole(e.t, c, e.url, r.body)
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
	var raw string
	switch b := body.(type) {
	case string:
		raw = b
	case []byte:
		raw = string(b)
	default:
		j, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		raw = string(j)
	}
	r := send(e.t, nil, http.MethodPost, e.url+"/api/v1/credentials", raw, "Content-Type", "application/json", "Authorization", bearer(token))
	out := apiResult{status: r.status}
	if err := json.Unmarshal([]byte(r.body), &out.body); err != nil {
		e.t.Fatalf("API answered non-JSON (HTTP %d): %s", r.status, r.body)
	}
	if r.status == http.StatusOK && r.header.Get("Cache-Control") != "no-store" {
		e.t.Errorf("credentials response Cache-Control = %q, want no-store", r.header.Get("Cache-Control"))
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

// token is a real upstream ID token from the IdP for alice, bob or carol.
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
	e.t.Helper()
	e.moto.CheckS3(e.t, creds, peers.Lists(teamBucket, "report.txt"), peers.Reads(teamBucket, "report.txt"),
		peers.Denied(peers.Writes(teamBucket, "new.txt")), peers.Denied(peers.Lists(otherBucket)))
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

// vendWatch remembers how many STS calls and identities there were, so a
// test can check that refusals added none.
type vendWatch struct {
	e          *env
	calls, ids int
}

func (e *env) watchVends() *vendWatch {
	return &vendWatch{e: e, calls: e.tap.Count(), ids: e.identityCount()}
}

// none reports an STS call or a stored identity since the watch began.
func (w *vendWatch) none(t *testing.T, what string) {
	t.Helper()
	if calls, ids := w.e.tap.Count(), w.e.identityCount(); calls != w.calls || ids != w.ids {
		t.Errorf("%s called STS (%d -> %d) or stored identities (%d -> %d)", what, w.calls, calls, w.ids, ids)
	}
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
