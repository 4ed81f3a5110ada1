package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fedgate/gateway/testkit"
	"fedgate/gateway/wire"
)

// fakeGateway stands in for fedgate's /cli/credentials in unit tests; the
// end-to-end tests run the real gateway.
type fakeGateway struct {
	srv    *httptest.Server
	vends  atomic.Int32
	status int // answer with this status when set
	delay  time.Duration
}

func newFakeGateway(t testing.TB) *fakeGateway {
	g := &fakeGateway{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cli/credentials" || r.Header.Get("Authorization") != "Bearer fgcli_test" {
			http.Error(w, `{"code":"unauthorized","message":"no"}`, http.StatusUnauthorized)
			return
		}
		if g.status != 0 {
			w.WriteHeader(g.status)
			_, _ = w.Write([]byte(`{"code":"cli_session_invalid","message":"This fedgate CLI session has expired or was revoked."}`))
			return
		}
		n := g.vends.Add(1)
		time.Sleep(g.delay)
		_ = json.NewEncoder(w).Encode(wire.Credentials{
			AccessKeyID: "ASIA" + strings.Repeat("0", 11) + string(rune('A'+n)), SecretAccessKey: "secret", SessionToken: "token",
			Expiration: time.Now().Add(time.Hour).UTC().Format(time.RFC3339), RoleARN: "arn:aws:iam::1:role/r",
		})
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// newTestClient is a client living in home, printing to stdout and stderr.
func newTestClient(home string, stdout, stderr io.Writer) *Client {
	return New(Options{
		Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Environ: []string{"HOME=" + home},
		HTTP: &http.Client{Timeout: 10 * time.Second}, Now: time.Now, After: time.After, Rand: rand.Reader, Version: "test",
	})
}

// testClient is a client whose home is a fresh directory, signed in to g.
func testClient(t testing.TB, g *fakeGateway) (*Client, *bytes.Buffer, *bytes.Buffer, cliDirs) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := newTestClient(t.TempDir(), &out, &errOut)
	dirs, err := c.dirs()
	if err != nil {
		t.Fatal(err)
	}
	if g != nil {
		if err := dirs.saveSession(&savedSession{Gateway: g.srv.URL, AccessToken: "fgcli_test", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	return c, &out, &errOut, dirs
}

// roleOptions are credential-process's defaults for role on g.
func roleOptions(g *fakeGateway, role string) RoleOptions {
	return RoleOptions{Gateway: g.srv.URL, Role: role, RefreshBefore: 5 * time.Minute}
}

func TestCredentialProcessCachesEncrypted(t *testing.T) {
	g := newFakeGateway(t)
	c, out, errOut, dirs := testClient(t, g)
	o := roleOptions(g, "arn:aws:iam::1:role/r")
	o.Pool = "team"
	if err := c.CredentialProcess(context.Background(), o); err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	first := out.String()
	var proc map[string]any
	if err := json.Unmarshal([]byte(first), &proc); err != nil || proc["Version"] != float64(1) || proc["AccessKeyId"] == "" {
		t.Fatalf("credential_process output %q", first)
	}
	out.Reset()
	if err := c.CredentialProcess(context.Background(), o); err != nil || out.String() != first || g.vends.Load() != 1 {
		t.Fatalf("second call: %v, %d vends, same output %v; want the cache", err, g.vends.Load(), out.String() == first)
	}
	files, _ := filepath.Glob(filepath.Join(dirs.cache, "*.cache"))
	if len(files) != 1 {
		t.Fatalf("cache files = %v", files)
	}
	raw, _ := os.ReadFile(files[0])
	if bytes.Contains(raw, []byte("secret")) || bytes.Contains(raw, []byte("ASIA")) {
		t.Error("the cache file holds credentials in the clear")
	}
	for path, want := range map[string]os.FileMode{files[0]: 0o600, filepath.Join(dirs.config, cacheKeyFile): 0o600, dirs.sessionPath(g.srv.URL): 0o600, dirs.config: 0o700, dirs.cache: 0o700} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, st.Mode().Perm(), err, want)
		}
	}
	// A refresh window longer than the credentials' life fetches anew.
	o.RefreshBefore = 2 * time.Hour
	if err := c.CredentialProcess(context.Background(), o); err != nil || g.vends.Load() != 2 {
		t.Errorf("refresh: %v, %d vends; want a second vend", err, g.vends.Load())
	}
}

func TestCredentialProcessTamperedCache(t *testing.T) {
	g := newFakeGateway(t)
	c, out, errOut, dirs := testClient(t, g)
	o := roleOptions(g, "arn:aws:iam::1:role/r")
	if err := c.CredentialProcess(context.Background(), o); err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dirs.cache, "*.cache"))
	tampers := map[string]func([]byte) []byte{
		"flipped bit": func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"truncated":   func(b []byte) []byte { return b[:10] },
		"empty":       func([]byte) []byte { return nil },
		"plaintext":   func([]byte) []byte { return []byte(`{"access_key_id":"ASIAEVIL","expiration":"2099-01-01T00:00:00Z"}`) },
	}
	for name, tamper := range tampers {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(files[0], tamper(raw), 0o600); err != nil {
				t.Fatal(err)
			}
			before := g.vends.Load()
			out.Reset()
			errOut.Reset()
			if err := c.CredentialProcess(context.Background(), o); err != nil {
				t.Fatalf("%v: %s", err, errOut)
			}
			if !strings.Contains(errOut.String(), "could not be decrypted") || !strings.Contains(errOut.String(), "discarding") {
				t.Errorf("stderr %q lacks a clear message", errOut)
			}
			if g.vends.Load() != before+1 || strings.Contains(out.String(), "EVIL") {
				t.Errorf("tampered cache was used (vends %d→%d, output %q)", before, g.vends.Load(), out)
			}
		})
	}
	// A cache file moved to another role's name does not decrypt there.
	other := roleOptions(g, "arn:aws:iam::1:role/other")
	cache, err := c.cacheFor(dirs, g.srv.URL, "", "arn:aws:iam::1:role/other", 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(files[0])
	if err := os.WriteFile(cache.path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if err := c.CredentialProcess(context.Background(), other); err != nil || !strings.Contains(errOut.String(), "could not be decrypted") {
		t.Errorf("swapped cache file: %v, stderr %q; want it discarded", err, errOut)
	}
}

func TestCredentialProcessConcurrentColdCache(t *testing.T) {
	g := newFakeGateway(t)
	g.delay = 200 * time.Millisecond // the first caller is still fetching when the rest arrive
	c, _, _, _ := testClient(t, g)
	home := c.getenv("HOME")
	const n = 20
	outs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var out, errOut bytes.Buffer
			ci := newTestClient(home, &out, &errOut)
			if err := ci.CredentialProcess(context.Background(), roleOptions(g, "arn:aws:iam::1:role/r")); err != nil {
				t.Errorf("caller %d: %v: %s", i, err, errOut.String())
			}
			outs[i] = out.String()
		})
	}
	wg.Wait()
	if g.vends.Load() != 1 {
		t.Errorf("%d parallel callers on a cold cache made %d vends, want 1", n, g.vends.Load())
	}
	for i := range outs {
		if outs[i] != outs[0] {
			t.Errorf("caller %d printed %q, caller 0 %q", i, outs[i], outs[0])
		}
	}
}

func TestCredentialProcessNeedsSession(t *testing.T) {
	g := newFakeGateway(t)
	tests := []struct {
		name  string
		setup func(dirs cliDirs)
		want  string
	}{
		{"never signed in", func(dirs cliDirs) { _ = os.Remove(dirs.sessionPath(g.srv.URL)) }, "not signed in"},
		{"expired locally", func(dirs cliDirs) {
			_ = dirs.saveSession(&savedSession{Gateway: g.srv.URL, AccessToken: "fgcli_test", ExpiresAt: time.Now().Add(-time.Minute)})
		}, "expired"},
		{"revoked on the gateway", func(cliDirs) { g.status = http.StatusUnauthorized }, "revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, out, _, dirs := testClient(t, g)
			tt.setup(dirs)
			start := time.Now()
			err := c.CredentialProcess(context.Background(), roleOptions(g, "arn:aws:iam::1:role/r"))
			if err == nil || out.Len() != 0 || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "run: fedgate login --gateway "+g.srv.URL) {
				t.Errorf("error %v, stdout %q; want an error with a login hint", err, out)
			}
			if time.Since(start) > 5*time.Second {
				t.Error("credential-process waited instead of failing at once")
			}
		})
	}
}

func TestNormalizeGateway(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://fedgate.example.com/", "https://fedgate.example.com"},
		{"https://fedgate.example.com/base", "https://fedgate.example.com/base"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://fedgate.example.com", ""},
		{"ftp://fedgate.example.com", ""},
		{"https://user:pw@fedgate.example.com", ""},
		{"https://fedgate.example.com/?x=1", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := normalizeGateway(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("normalizeGateway(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestMergeAWSConfig(t *testing.T) {
	update := []awsSection{{Name: "profile fedgate-team-reader", Keys: [][2]string{{"credential_process", "/bin/fedgate credential-process"}, {"region", "us-east-1"}}}}
	want := "[profile fedgate-team-reader]\ncredential_process = /bin/fedgate credential-process\nregion = us-east-1\n"
	tests := []struct{ name, old, want string }{
		{"empty file", "", want},
		{"others kept", "# mine\n[default]\nregion = eu-west-1\n\n[profile work]\nrole_arn = x ; note\n",
			"# mine\n[default]\nregion = eu-west-1\n\n[profile work]\nrole_arn = x ; note\n\n" + want},
		{"replaced in place", "[default]\nregion = a\n[profile fedgate-team-reader]\ncredential_process = old\noutput = json\n[profile after]\nx = 1\n",
			"[default]\nregion = a\n" + want + "[profile after]\nx = 1\n"},
		{"spacing in header", "[ profile   fedgate-team-reader ] # old\nregion = x\n", want},
		{"duplicate sections collapse", "[profile fedgate-team-reader]\na = 1\n[profile fedgate-team-reader]\nb = 2\n", want},
		{"no final newline", "[default]\nregion = a", "[default]\nregion = a\n\n" + want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeAWSConfig(tt.old, update)
			if got != tt.want {
				t.Errorf("merge:\n%s\nwant:\n%s", got, tt.want)
			}
			if again := mergeAWSConfig(got, update); again != got {
				t.Errorf("merging twice changed the file:\n%s", again)
			}
		})
	}
}

func TestShellJoinAndProfileName(t *testing.T) {
	if got := shellJoin([]string{"/opt/my tools/fedgate", "--role", "arn:aws:iam::1:role/a'b"}); got != `'/opt/my tools/fedgate' --role 'arn:aws:iam::1:role/a'"'"'b'` {
		t.Errorf("shellJoin = %s", got)
	}
	if got := profileName("fedgate-team-Reader Role/../x"); got != "fedgate-team-Reader-Role-..-x" {
		t.Errorf("profileName = %s", got)
	}
}

// FuzzOpenCache: arbitrary bytes in a cache file never decrypt and never
// panic.
func FuzzOpenCache(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	good, err := sealCache(rand.Reader, key, []byte("aad"), []byte(`{"access_key_id":"A"}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(cacheMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		plain, err := openCache(key, []byte("other-aad"), b)
		if err == nil {
			t.Fatalf("bytes %x decrypted under the wrong associated data to %q", b, plain)
		}
	})
}

// FuzzMergeAWSConfig: the fedgate section appears exactly once, merging is
// idempotent, and every line outside replaced sections is kept.
func FuzzMergeAWSConfig(f *testing.F) {
	f.Add("[default]\nregion = a\n[profile fedgate-x]\nold = 1\n")
	f.Add("[profile fedgate-x\n]\n[ profile fedgate-x]")
	f.Add("no header\n\n[default]")
	f.Add("[profile fedgate-x]\nold = 1\n\n# my work account\n[profile work]\nregion = b\n")
	update := []awsSection{{Name: "profile fedgate-x", Keys: [][2]string{{"credential_process", "fedgate"}}}}
	f.Fuzz(func(t *testing.T, old string) {
		if strings.ContainsAny(old, "\r") || !strings.HasSuffix(old, "\n") && old != "" {
			old += "\n"
		}
		got := mergeAWSConfig(old, update)
		if n := strings.Count(got, "[profile fedgate-x]\ncredential_process = fedgate\n"); n != 1 {
			t.Fatalf("section written %d times:\n%s", n, got)
		}
		if again := mergeAWSConfig(got, update); again != got {
			t.Fatalf("not idempotent:\n%q\n%q", got, again)
		}
		for _, line := range strings.Split(old, "\n") {
			if isBlankOrComment(line) && strings.TrimSpace(line) != "" && !strings.Contains(got, line) {
				t.Fatalf("comment %q lost", line)
			}
			if m := sectionHeader.FindStringSubmatch(line); m != nil {
				if normalizeSection(m[1]) != "profile fedgate-x" && !strings.Contains(got, line) {
					t.Fatalf("header %q lost", line)
				}
			}
		}
	})
}

// BenchmarkCredentialsCacheHit is credential-process's hot path: lock,
// read and decrypt the cache, no request.
func BenchmarkCredentialsCacheHit(b *testing.B) {
	g := newFakeGateway(b)
	c, _, _, _ := testClient(b, g)
	o := roleOptions(g, "arn:aws:iam::1:role/r")
	for b.Loop() {
		if _, _, err := c.credentials(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
	if g.vends.Load() != 1 {
		b.Fatalf("%d vends, want 1", g.vends.Load())
	}
}

func TestLoginResolvesPoolAndProvider(t *testing.T) {
	pools := `{"pools":[{"id":"us-east-1:a","name":"team","display_name":"Team","providers":["corp"]},` +
		`{"id":"us-east-1:b","name":"ops","display_name":"Ops","providers":["corp","saml"]}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(pools)) }))
	defer srv.Close()
	tests := []struct {
		pool, provider, wantPool, wantProvider, err string
	}{
		{"team", "", "us-east-1:a", "corp", ""},
		{"us-east-1:b", "saml", "us-east-1:b", "saml", ""},
		{"", "", "", "", "choose one with --pool: team (Team), ops (Ops)"},
		{"ops", "", "", "", "choose one with --provider: corp, saml"},
		{"ops", "okta", "", "", `does not accept the provider "okta"`},
		{"nope", "", "", "", `no pool "nope"`},
	}
	c, _, _, _ := testClient(t, nil)
	for _, tt := range tests {
		o := LoginOptions{Pool: tt.pool, Provider: tt.provider}
		err := resolveTarget(context.Background(), c.gateway(srv.URL, ""), &o)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q/%q: err = %v, want %q", tt.pool, tt.provider, err, tt.err)
			}
			continue
		}
		if err != nil || o.Pool != tt.wantPool || o.Provider != tt.wantProvider {
			t.Errorf("%q/%q: got %q/%q, %v", tt.pool, tt.provider, o.Pool, o.Provider, err)
		}
	}
}

// While `fedgate login` waits on its loopback port, a request without the
// sign-in's state (another local program) is refused and ignored; the
// gateway's error=access_denied then ends the login at once with a clear
// message.
func TestLoopbackLoginIgnoresStrangersAndStopsOnRefusal(t *testing.T) {
	var stderr testkit.LogBuffer // read while the CLI prints
	c := newTestClient(t.TempDir(), &bytes.Buffer{}, &stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type outcome struct{ err error }
	done := make(chan outcome, 1)
	go func() {
		_, err := c.loopbackLogin(ctx, c.gateway("https://fedgate.example.com", ""), LoginOptions{Pool: "team", NoBrowser: true})
		done <- outcome{err}
	}()

	authURL := regexp.MustCompile(`https://fedgate\.example\.com/cli/authorize\?\S+`)
	var auth *url.URL
	for deadline := time.Now().Add(10 * time.Second); auth == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := authURL.FindString(stderr.String()); m != "" {
			auth, _ = url.Parse(m)
		}
	}
	if auth == nil {
		t.Fatalf("the CLI printed no sign-in URL:\n%s", stderr.String())
	}
	redirect, state := auth.Query().Get("redirect_uri"), auth.Query().Get("state")

	resp, err := http.Get(redirect + "?state=not-the-state&code=planted")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a request with another state: HTTP %d, want 400", resp.StatusCode)
	}
	select {
	case o := <-done:
		t.Fatalf("a stranger's request ended the login: %v", o.err)
	case <-time.After(200 * time.Millisecond):
	}

	resp, err = http.Get(redirect + "?" + url.Values{"state": {state}, "error": {"access_denied"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case o := <-done:
		if o.err == nil || !strings.Contains(o.err.Error(), "refused") {
			t.Errorf("login after the gateway's refusal: %v, want a refusal", o.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the login kept waiting after the gateway refused the sign-in")
	}
}

// The device flow polls at the gateway's interval and slows down by five
// seconds on slow_down (RFC 8628 §3.5), on the injected clock.
func TestDeviceLoginPollsAtTheGatewaysPace(t *testing.T) {
	answers := []any{
		wire.OAuthError{Error: "authorization_pending"},
		wire.OAuthError{Error: "slow_down"},
		wire.OAuthError{Error: "authorization_pending"},
		wire.CLIToken{AccessToken: "fgcli_x", ExpiresAt: "2099-01-01T00:00:00Z", User: "alice"},
	}
	var polls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cli/device":
			_ = json.NewEncoder(w).Encode(wire.DeviceAuthorization{DeviceCode: "dc", UserCode: "ABCD-EFGH", VerificationURI: "https://gw/device", ExpiresIn: 600, Interval: 2})
		case "/cli/token":
			if r.FormValue("device_code") != "dc" {
				http.Error(w, "wrong device code", http.StatusBadRequest)
				return
			}
			answer := answers[polls]
			polls++
			if _, pending := answer.(wire.OAuthError); pending {
				w.WriteHeader(http.StatusBadRequest)
			}
			_ = json.NewEncoder(w).Encode(answer)
		}
	}))
	defer srv.Close()
	var waits []time.Duration
	var stderr bytes.Buffer
	c := newTestClient(t.TempDir(), &bytes.Buffer{}, &stderr)
	c.after = func(d time.Duration) <-chan time.Time {
		waits = append(waits, d)
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	tok, err := c.deviceLogin(context.Background(), c.gateway(srv.URL, ""), LoginOptions{Pool: "team"})
	if err != nil || tok.AccessToken != "fgcli_x" {
		t.Fatalf("deviceLogin = %+v, %v", tok, err)
	}
	want := []time.Duration{2 * time.Second, 2 * time.Second, 7 * time.Second, 7 * time.Second}
	if !slices.Equal(waits, want) {
		t.Errorf("waited %v, want %v", waits, want)
	}
	if !strings.Contains(stderr.String(), "ABCD-EFGH") || !strings.Contains(stderr.String(), "https://gw/device") {
		t.Errorf("the code and where to enter it were not shown:\n%s", stderr.String())
	}
}
