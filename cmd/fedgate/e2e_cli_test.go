package main

// End-to-end evidence for `fedgate login`, credential-process and the
// console sign-in: the real binary on both ends, the real
// oidc-provider pages driven by headless Chromium, the real AWS CLI v1
// (pip) and v2 (Debian) against moto with IAM enforcement.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/wire"
)

// cliFederation is a test double of the AWS federation endpoint: it
// records every request and answers getSigninToken with a fixed token and
// Action=login with a page, so a browser can land on it.
type cliFederation struct {
	srv     *httptest.Server
	mu      sync.Mutex
	queries []url.Values
}

func newCLIFederation(t *testing.T) *cliFederation {
	f := &cliFederation{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/federation" {
			http.NotFound(w, r) // e.g. the browser's /favicon.ico
			return
		}
		q := r.URL.Query()
		f.mu.Lock()
		f.queries = append(f.queries, q)
		f.mu.Unlock()
		switch {
		case q.Get("Action") == "getSigninToken":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"SigninToken":"signin-%d"}`, len(f.queries))
		case q.Get("Action") == "login":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<!doctype html><title>AWS console double</title><h1 id="console">console double</h1>`)
		default:
			http.Error(w, "unknown action", http.StatusBadRequest)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *cliFederation) recorded() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.queries...)
}

// cliHome is one person's laptop: HOME, XDG directories and an AWS config
// of its own, and no AWS credentials in the environment.
type cliHome struct {
	e           *env
	dir         string
	env         []string
	lastProcess *os.Process // the last command start ran
}

func newCLIHome(e *env) *cliHome {
	h := &cliHome{e: e, dir: e.t.TempDir()}
	realHome, _ := os.UserHomeDir()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "XDG_") || strings.HasPrefix(name, "FEDGATE_") ||
			name == "HOME" || name == "BROWSER" || name == "DISPLAY" || name == "WAYLAND_DISPLAY" {
			continue
		}
		h.env = append(h.env, kv)
	}
	if os.Getenv("PYENV_ROOT") == "" && realHome != "" {
		h.env = append(h.env, "PYENV_ROOT="+filepath.Join(realHome, ".pyenv")) // the pip AWS CLI's shim needs it
	}
	awsDir := filepath.Join(h.dir, "aws")
	if err := os.MkdirAll(awsDir, 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(awsDir, "credentials"), nil, 0o600); err != nil {
		e.t.Fatal(err)
	}
	h.env = append(h.env, "HOME="+h.dir, "XDG_CONFIG_HOME="+filepath.Join(h.dir, "xdg-config"), "XDG_CACHE_HOME="+filepath.Join(h.dir, "xdg-cache"),
		"AWS_CONFIG_FILE="+filepath.Join(awsDir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(awsDir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "FEDGATE_GATEWAY="+e.url)
	return h
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// run runs a command (the fedgate binary when name is "fedgate") on this laptop.
func (h *cliHome) run(name string, args ...string) cliResult {
	h.e.t.Helper()
	if name == "fedgate" {
		name = h.e.bin
	}
	cmd := exec.Command(name, args...)
	cmd.Env = h.env
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

// goRun runs `go run .` (this package: fedgate) on this laptop, with the
// go command's own caches, so the build is the test binary's.
func (h *cliHome) goRun(args ...string) cliResult {
	h.e.t.Helper()
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		h.e.t.Fatalf("go env: %v", err)
	}
	vals := strings.Fields(string(out))
	saved := h.env
	defer func() { h.env = saved }()
	h.env = append(append([]string(nil), h.env...), "GOCACHE="+vals[0], "GOMODCACHE="+vals[1], "GOPATH="+vals[2], "GOPROXY=off", "GOTOOLCHAIN=local")
	return h.run("go", append([]string{"run", "."}, args...)...)
}

// start runs fedgate in the background and hands back its stderr lines.
func (h *cliHome) start(args ...string) (lines <-chan string, done <-chan cliResult) {
	h.e.t.Helper()
	cmd := exec.Command(h.e.bin, args...)
	cmd.Env = h.env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		h.e.t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		h.e.t.Fatal(err)
	}
	h.e.t.Cleanup(func() { _ = cmd.Process.Kill() })
	h.lastProcess = cmd.Process
	lc, dc := make(chan string, 100), make(chan cliResult, 1)
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			select {
			case lc <- sc.Text():
			default:
			}
		}
		close(lc)
		err := cmd.Wait()
		res := cliResult{stdout: out.String(), stderr: all.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			res.code = ee.ExitCode()
		}
		dc <- res
	}()
	return lc, dc
}

// waitLine returns the first submatch of pattern in the process's stderr.
func waitLine(t *testing.T, lines <-chan string, pattern string) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the command ended without printing %s", pattern)
			}
			if m := re.FindStringSubmatch(l); m != nil {
				return m[1]
			}
		case <-timeout:
			t.Fatalf("no %s within 30s", pattern)
		}
	}
}

func waitDone(t *testing.T, done <-chan cliResult, within time.Duration) cliResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(within):
		t.Fatalf("the command did not finish within %s", within)
		return cliResult{}
	}
}

// metric sums the samples of a Prometheus counter whose labels include all of labels.
func (e *env) metric(name string, labels ...string) float64 {
	e.t.Helper()
	_, _, body := get(e.t, http.DefaultClient, e.url+"/metrics")
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if ok {
			v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
			if err != nil {
				e.t.Fatalf("metric line %q: %v", line, err)
			}
			sum += v
		}
	}
	return sum
}

// cliCounters is what proves whether a CLI call reached fedgate and STS.
type cliCounters struct{ requests, vends float64 }

func (e *env) cliCounters() cliCounters {
	return cliCounters{
		requests: e.metric("fedgate_http_requests_total", `route="/cli/credentials"`),
		vends:    e.metric("fedgate_vends_total", `surface="cli"`),
	}
}

func TestEndToEndCLI(t *testing.T) {
	clis := peers.AWSCLIs(t)
	fed := newCLIFederation(t)
	e := startEnv(t, func(*env) string {
		return fmt.Sprintf("cli:\n  device_code_ttl: 20s\n  device_poll_interval: 1s\nconsole:\n  federation_url: %s/federation\n", fed.srv.URL)
	})
	b := peers.StartChromium(t, 1100, 900, 4*time.Minute)
	home := newCLIHome(e)
	profile := "fedgate-team-team-data-reader"

	// Started first, never approved: it must give up when the code expires.
	expiring := newCLIHome(e)
	_, expiredDone := expiring.start("login", "--device", "--pool", "team")

	t.Run("credential-process without a session fails at once", func(t *testing.T) {
		before := e.cliCounters()
		start := time.Now()
		r := home.run("fedgate", "credential-process", "--pool", "team", "--role", e.readerRole)
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "run: fedgate login --gateway "+e.url) || time.Since(start) > 10*time.Second {
			t.Fatalf("exit %d after %s, stdout %q, stderr %q", r.code, time.Since(start), r.stdout, r.stderr)
		}
		if after := e.cliCounters(); after != before {
			t.Errorf("a call without a session reached fedgate: %+v -> %+v", before, after)
		}
	})

	t.Run("loopback login in Chromium through the IdP's pages", func(t *testing.T) {
		lines, done := home.start("login", "--pool", "team", "--no-browser")
		authURL := waitLine(t, lines, `^\s+(http://\S+/cli/authorize\?\S+)$`)
		if !strings.Contains(authURL, "code_challenge_method=S256") || !strings.Contains(authURL, "redirect_uri=http%3A%2F%2F127.0.0.1%3A") {
			t.Fatalf("authorize URL %s", authURL)
		}
		b.Run(t, "open the authorize URL", chromedp.Navigate(authURL))
		b.SignInAtIdP(t, "alice", "#result")
		if text := b.Text(t, "#result"); !strings.Contains(text, "You are signed in") {
			t.Fatalf("loopback page says %q", text)
		}
		r := waitDone(t, done, 30*time.Second)
		if r.code != 0 || !strings.Contains(r.stderr, "Signed in to "+e.url+" as alice@example.com") {
			t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
		}
		files, _ := filepath.Glob(filepath.Join(home.dir, "xdg-config", "fedgate", "session-*.json"))
		if len(files) != 1 {
			t.Fatalf("session files: %v", files)
		}
		if st, _ := os.Stat(files[0]); st.Mode().Perm() != 0o600 {
			t.Errorf("session file mode %v, want 0600", st.Mode().Perm())
		}
		if strings.Contains(e.logs.String(), readSessionToken(t, files[0])) {
			t.Error("the CLI session token is in fedgate's log")
		}
	})

	t.Run("configure writes profiles and keeps the rest", func(t *testing.T) {
		cfg := filepath.Join(home.dir, "aws", "config")
		mine := "# my settings\n[default]\nregion = eu-west-1\n\n[profile personal]\nregion = eu-central-1\noutput = json\n"
		if err := os.WriteFile(cfg, []byte(mine), 0o600); err != nil {
			t.Fatal(err)
		}
		r := home.run("fedgate", "configure", "--pool", "team")
		if r.code != 0 || strings.TrimSpace(r.stdout) != profile {
			t.Fatalf("configure: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
		}
		b, _ := os.ReadFile(cfg)
		got := string(b)
		wantLine := fmt.Sprintf("credential_process = %s credential-process --gateway %s --pool %s --role %s", e.bin, e.url, poolGatewayID, e.readerRole)
		if !strings.HasPrefix(got, mine) || !strings.Contains(got, "[profile "+profile+"]\n"+wantLine+"\nregion = us-east-1\n") {
			t.Fatalf("AWS config after configure:\n%s", got)
		}
		if r := home.run("fedgate", "configure", "--pool", "team"); r.code != 0 {
			t.Fatal(r.stderr)
		}
		if again, _ := os.ReadFile(cfg); string(again) != got {
			t.Errorf("a second configure changed the file:\n%s", again)
		}
	})

	t.Run("configure under go run refuses a temporary path; --command names a lasting one", func(t *testing.T) {
		cfg := filepath.Join(home.dir, "aws", "config")
		before, _ := os.ReadFile(cfg)
		r := home.goRun("configure", "--pool", "team")
		if r.code != 1 || !strings.Contains(r.stderr, "temporary build") || !strings.Contains(r.stderr, "go install ./cmd/fedgate") || !strings.Contains(r.stderr, "--command PATH") {
			t.Fatalf("go run fedgate configure: exit %d\n%s", r.code, r.stderr)
		}
		if after, _ := os.ReadFile(cfg); string(after) != string(before) {
			t.Errorf("a refused configure changed the AWS config:\n%s", after)
		}
		// --command names the fedgate to write, whichever one runs configure.
		installed := filepath.Join(home.dir, "bin", "fedgate")
		if err := os.MkdirAll(filepath.Dir(installed), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(e.bin, installed); err != nil {
			t.Fatal(err)
		}
		if r := home.run("fedgate", "configure", "--pool", "team", "--command", installed); r.code != 0 {
			t.Fatalf("fedgate configure --command: exit %d\n%s", r.code, r.stderr)
		}
		after, _ := os.ReadFile(cfg)
		if want := strings.Replace(string(before), "credential_process = "+e.bin+" ", "credential_process = "+installed+" ", 1); string(after) != want {
			t.Errorf("configure --command %s wrote:\n%s", installed, after)
		}
		if r := home.run("fedgate", "configure", "--pool", "team"); r.code != 0 {
			t.Fatal(r.stderr)
		}
	})

	for _, v := range []string{"v1", "v2"} {
		t.Run("AWS CLI "+v+" through credential_process", func(t *testing.T) {
			s3api := func(args ...string) cliResult {
				return home.run(clis[v], append(append([]string{"s3api"}, args...), "--profile", profile, "--endpoint-url", e.moto.URL, "--output", "json")...)
			}
			before, calls := e.cliCounters(), e.tap.Count()
			r := s3api("list-objects-v2", "--bucket", teamBucket)
			if r.code != 0 || !strings.Contains(r.stdout, `"report.txt"`) {
				t.Fatalf("aws %s list-objects-v2: exit %d\n%s\n%s", v, r.code, r.stdout, r.stderr)
			}
			first := e.cliCounters()
			r = s3api("put-object", "--bucket", teamBucket, "--key", "new.txt")
			if r.code == 0 || !strings.Contains(r.stderr, "AccessDenied") {
				t.Fatalf("aws %s put-object with the reader role: exit %d, want AccessDenied\n%s", v, r.code, r.stderr)
			}
			r = s3api("list-objects-v2", "--bucket", otherBucket)
			if r.code == 0 || !strings.Contains(r.stderr, "AccessDenied") {
				t.Fatalf("aws %s listing %s: exit %d, want AccessDenied\n%s", v, otherBucket, r.code, r.stderr)
			}
			// The calls after the first are served from fedgate's cache:
			// no request reached fedgate, nothing reached STS.
			if after := e.cliCounters(); after != first {
				t.Errorf("cached calls reached fedgate: %+v -> %+v", first, after)
			}
			if v == "v1" && (first.requests != before.requests+1 || first.vends != before.vends+1 || e.tap.Count() != calls+1) {
				t.Errorf("first call on a cold cache: %+v -> %+v, STS %d -> %d; want one vend", before, first, calls, e.tap.Count())
			}
			if v == "v2" && first != before {
				t.Errorf("v2 after v1 should use the same cache: %+v -> %+v", before, first)
			}
		})
	}

	var processOut string
	t.Run("20 parallel credential-process on a cold cache vend once", func(t *testing.T) {
		before, calls := e.cliCounters(), e.tap.Count()
		const n = 20
		results := make([]cliResult, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				results[i] = home.run("fedgate", "credential-process", "--pool", "team", "--role", e.readerRole, "--duration", "900")
			})
		}
		wg.Wait()
		for i, r := range results {
			if r.code != 0 || r.stdout != results[0].stdout {
				t.Fatalf("caller %d: exit %d, output differs: %q vs %q\n%s", i, r.code, r.stdout, results[0].stdout, r.stderr)
			}
		}
		var proc wire.ProcessCredentials
		if err := json.Unmarshal([]byte(results[0].stdout), &proc); err != nil || proc.Version != 1 || proc.AccessKeyID == "" || proc.SessionToken == "" {
			t.Fatalf("credential_process output %q (%v)", results[0].stdout, err)
		}
		exp, err := time.Parse(time.RFC3339, proc.Expiration)
		if err != nil || time.Until(exp) > 16*time.Minute || time.Until(exp) < 10*time.Minute {
			t.Errorf("Expiration %q for --duration 900", proc.Expiration)
		}
		if after := e.cliCounters(); after.vends != before.vends+1 || after.requests != before.requests+1 || e.tap.Count() != calls+1 {
			t.Errorf("%d parallel calls: counters %+v -> %+v, STS %d -> %d; want exactly one vend", n, before, after, calls, e.tap.Count())
		}
		processOut = results[0].stdout
	})

	t.Run("a tampered cache is discarded with a clear message", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(home.dir, "xdg-cache", "fedgate", "*.cache"))
		if len(files) != 2 {
			t.Fatalf("cache files %v, want two (default duration and 900 s)", files)
		}
		for _, f := range files {
			if st, _ := os.Stat(f); st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", f, st.Mode().Perm())
			}
			b, _ := os.ReadFile(f)
			if strings.Contains(string(b), "ASIA") {
				t.Fatalf("%s holds credentials in the clear", f)
			}
			b[len(b)/2] ^= 0x40
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		before := e.cliCounters()
		r := home.run("fedgate", "credential-process", "--pool", "team", "--role", e.readerRole, "--duration", "900")
		if r.code != 0 || r.stdout == processOut || !strings.Contains(r.stderr, "could not be decrypted (tampered with or damaged); discarding them") {
			t.Fatalf("exit %d, same output %v, stderr %q", r.code, r.stdout == processOut, r.stderr)
		}
		if after := e.cliCounters(); after.vends != before.vends+1 {
			t.Errorf("tampered cache: vends %v -> %v, want a fresh vend", before.vends, after.vends)
		}
	})

	t.Run("env and exec", func(t *testing.T) {
		r := home.run("fedgate", "env", "--pool", "team", "--role", e.readerRole)
		if r.code != 0 || !strings.Contains(r.stdout, "export AWS_ACCESS_KEY_ID='ASIA") || !strings.Contains(r.stdout, "export AWS_SESSION_TOKEN=") {
			t.Fatalf("env: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		r = home.run("fedgate", "exec", "--pool", "team", "--role", e.readerRole, "--", clis["v2"], "s3api", "list-objects-v2",
			"--bucket", teamBucket, "--endpoint-url", e.moto.URL, "--region", "us-east-1")
		if r.code != 0 || !strings.Contains(r.stdout, `"report.txt"`) {
			t.Fatalf("exec aws: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if r := home.run("fedgate", "exec", "--pool", "team", "--role", e.readerRole, "--", "sh", "-c", "exit 7"); r.code != 7 {
			t.Errorf("exec did not pass the exit code on: %d", r.code)
		}
	})

	t.Run("fedgate console builds the federation sign-in URL", func(t *testing.T) {
		creds := home.run("fedgate", "credential-process", "--pool", "team", "--role", e.readerRole)
		var proc wire.ProcessCredentials
		if err := json.Unmarshal([]byte(creds.stdout), &proc); err != nil {
			t.Fatal(err)
		}
		n := len(fed.recorded())
		// No --federation-url: the gateway's console.federation_url is the double.
		r := home.run("fedgate", "console", "--pool", "team", "--role", e.readerRole, "--no-browser")
		if r.code != 0 {
			t.Fatalf("console: exit %d\n%s", r.code, r.stderr)
		}
		got := fed.recorded()[n:]
		if len(got) != 1 || got[0].Get("Action") != "getSigninToken" {
			t.Fatalf("federation requests %v, want one getSigninToken", got)
		}
		assertSigninRequest(t, got[0], proc.AccessKeyID, proc.SecretAccessKey, proc.SessionToken)
		login, err := url.Parse(strings.TrimSpace(r.stdout))
		if err != nil {
			t.Fatal(err)
		}
		want := url.Values{"Action": {"login"}, "Issuer": {e.url + "/"}, "Destination": {"https://console.aws.amazon.com/"}, "SigninToken": {fmt.Sprintf("signin-%d", n+1)}}
		if login.Scheme+"://"+login.Host+login.Path != fed.srv.URL+"/federation" || login.Query().Encode() != want.Encode() {
			t.Errorf("login URL %s, want query %s", login, want.Encode())
		}
	})

	t.Run("the credentials page's console button in Chromium", func(t *testing.T) {
		n := len(fed.recorded())
		b.Run(t, "open the sign-in", chromedp.Navigate(e.url+"/login/team/corp"))
		b.SignInAtIdP(t, "alice", "#signed-in-as")
		b.Run(t, "get the credentials from the portal", chromedp.Click(chromedp.CSS(`button[id^="creds-"]`)), chromedp.WaitVisible(chromedp.ID("open-console")))
		b.Run(t, "click Open AWS console", chromedp.Click(chromedp.ID("open-console")), chromedp.WaitVisible(chromedp.ID("console")))
		loc, err := chromedp.Run(b.Ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(loc)
		if !strings.HasPrefix(loc, fed.srv.URL+"/federation?") || u.Query().Get("Action") != "login" || u.Query().Get("SigninToken") != fmt.Sprintf("signin-%d", n+1) ||
			u.Query().Get("Issuer") != e.url+"/" {
			t.Fatalf("the browser landed on %s", loc)
		}
		got := fed.recorded()[n:]
		if len(got) != 2 || got[0].Get("Action") != "getSigninToken" {
			t.Fatalf("federation requests %v", got)
		}
		assertSigninRequest(t, got[0], "", "", "")
	})

	var deviceSession string
	t.Run("device login approved in Chromium while the CLI polls", func(t *testing.T) {
		lines, done := home.start("login", "--device", "--pool", "team")
		verify := waitLine(t, lines, `open (http://\S+/device) in any browser`)
		code := waitLine(t, lines, `^\s+([A-Z]{4}-[A-Z]{4})\s*$`)
		if verify != e.url+"/device" {
			t.Fatalf("verification URI %s", verify)
		}
		b.Run(t, "type the code", chromedp.Navigate(verify), chromedp.WaitVisible(chromedp.ID("user_code")),
			chromedp.SendKeys(chromedp.ID("user_code"), strings.ToLower(code)), chromedp.Click(chromedp.ID("continue")))
		b.SignInAtIdP(t, "alice", "#approve-device")
		if shown := b.Text(t, ".user-code-display"); shown != code {
			t.Fatalf("approve page shows %q, the CLI %q", shown, code)
		}
		b.Shot(t, screenshotDir(t), "cli-device-approve")
		b.Run(t, "approve", chromedp.Click(chromedp.ID("approve-device")), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
		r := waitDone(t, done, 30*time.Second)
		if r.code != 0 || !strings.Contains(r.stderr, "Signed in to "+e.url+" as alice@example.com") {
			t.Fatalf("device login: exit %d\n%s", r.code, r.stderr)
		}
		files, _ := filepath.Glob(filepath.Join(home.dir, "xdg-config", "fedgate", "session-*.json"))
		deviceSession = readSessionToken(t, files[0])
		if r := home.run("fedgate", "credential-process", "--pool", "team", "--role", e.readerRole, "--refresh-before", "24h"); r.code != 0 {
			t.Fatalf("credential-process with the device session: %s", r.stderr)
		}
	})

	t.Run("sessions are listed and revoking one stops the next refresh", func(t *testing.T) {
		r := home.run("fedgate", "sessions")
		if r.code != 0 || strings.Count(r.stdout, "\n") != 3 || !strings.Contains(r.stdout, "(this one)") || !strings.Contains(r.stdout, "device") || !strings.Contains(r.stdout, "loopback") {
			t.Fatalf("sessions: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		current := regexp.MustCompile(`(?m)^([0-9a-f]{32}) \(this one\)`).FindStringSubmatch(r.stdout)
		if current == nil {
			t.Fatalf("no current session in\n%s", r.stdout)
		}
		if r := home.run("fedgate", "sessions", "revoke", current[1]); r.code != 0 {
			t.Fatalf("revoke: %s", r.stderr)
		}
		// Cached credentials still serve until they need a refresh...
		if r := home.run("fedgate", "credential-process", "--pool", "team", "--role", e.readerRole); r.code != 0 {
			t.Errorf("cached credentials after revocation: exit %d %s", r.code, r.stderr)
		}
		// ...and the refresh is refused.
		r = home.run("fedgate", "credential-process", "--pool", "team", "--role", e.readerRole, "--refresh-before", "24h")
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "expired or was revoked") || !strings.Contains(r.stderr, "run: fedgate login --gateway "+e.url) {
			t.Errorf("refresh with a revoked session: exit %d, stderr %q", r.code, r.stderr)
		}
		if r := send(t, nil, http.MethodGet, e.url+"/cli/roles", "", "Authorization", bearer(deviceSession)); r.status != http.StatusUnauthorized {
			t.Errorf("the revoked session still works on the API: HTTP %d", r.status)
		}
	})

	t.Run("an expired session is refused before any request", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(home.dir, "xdg-config", "fedgate", "session-*.json"))
		b, _ := os.ReadFile(files[0])
		var s map[string]any
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		s["expires_at"] = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		b, _ = json.Marshal(s)
		if err := os.WriteFile(files[0], b, 0o600); err != nil {
			t.Fatal(err)
		}
		before := e.cliCounters()
		r := home.run("fedgate", "credential-process", "--pool", "team", "--role", e.readerRole, "--refresh-before", "24h")
		if r.code != 1 || !strings.Contains(r.stderr, "expired at") || !strings.Contains(r.stderr, "run: fedgate login") {
			t.Errorf("expired session: exit %d, stderr %q", r.code, r.stderr)
		}
		if after := e.cliCounters(); after != before {
			t.Errorf("an expired session reached fedgate: %+v -> %+v", before, after)
		}
		if r := home.run("fedgate", "logout"); r.code != 0 {
			t.Errorf("logout: %s", r.stderr)
		}
		if left, _ := filepath.Glob(filepath.Join(home.dir, "xdg-cache", "fedgate", "*.cache")); len(left) != 0 {
			t.Errorf("logout left cached credentials: %v", left)
		}
	})

	t.Run("a redirect to a non-loopback address is refused", func(t *testing.T) {
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		q := url.Values{"pool": {"team"}, "redirect_uri": {"https://evil.example/callback"}, "state": {"state-1234567890"},
			"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
		resp, err := c.Get(e.url + "/cli/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(string(body), "invalid_redirect_uri") {
			t.Errorf("HTTP %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("the device code expires when nobody approves it", func(t *testing.T) {
		r := waitDone(t, expiredDone, 60*time.Second)
		if r.code != 1 || !strings.Contains(r.stderr, "the code expired before it was approved") {
			t.Errorf("unapproved device login: exit %d\n%s", r.code, r.stderr)
		}
	})

	// Last: it spends this address's allowance of code entries.
	t.Run("guessing user codes is rate-limited", func(t *testing.T) {
		c := browser(t)
		_, _, page := get(t, c, e.url+"/device")
		csrf := regexpFind(t, page, `name="csrf" value="([^"]+)"`)
		statuses := []int{}
		for i := range 12 {
			status, _ := postForm(t, c, e.url+"/device", url.Values{"csrf": {csrf}, "user_code": {"BBBB-BBB" + string("CDFGHJKLMNPQ"[i])}})
			statuses = append(statuses, status)
		}
		if statuses[0] != http.StatusBadRequest || statuses[len(statuses)-1] != http.StatusTooManyRequests {
			t.Errorf("statuses of 12 wrong guesses: %v, want 400s then 429", statuses)
		}
	})
}

// assertSigninRequest checks a getSigninToken request: the Session JSON
// has exactly the three fields (of these credentials, when given) and
// SessionDuration is within the federation endpoint's bounds.
func assertSigninRequest(t *testing.T, q url.Values, id, key, token string) {
	t.Helper()
	var session map[string]string
	if err := json.Unmarshal([]byte(q.Get("Session")), &session); err != nil || len(session) != 3 ||
		session["sessionId"] == "" || session["sessionKey"] == "" || session["sessionToken"] == "" {
		t.Fatalf("Session %q (%v)", q.Get("Session"), err)
	}
	if id != "" && (session["sessionId"] != id || session["sessionKey"] != key || session["sessionToken"] != token) {
		t.Errorf("Session carries other credentials than credential-process printed")
	}
	d, err := strconv.Atoi(q.Get("SessionDuration"))
	if err != nil || d < 900 || d > 43200 {
		t.Errorf("SessionDuration %q, want 900..43200", q.Get("SessionDuration"))
	}
}

func readSessionToken(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &s); err != nil || !strings.HasPrefix(s.AccessToken, "fgcli_") {
		t.Fatalf("session file %s: %v", path, err)
	}
	return s.AccessToken
}
