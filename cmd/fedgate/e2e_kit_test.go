package main

// What the end-to-end tests share beyond their environment: the real
// binary, HTTP as a browser or a client sends it, and headless Chromium.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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
// $FEDGATE_SCREENSHOTS, or a temporary folder.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("FEDGATE_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
