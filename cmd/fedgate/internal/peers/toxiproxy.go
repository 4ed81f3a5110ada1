//go:build unix

package peers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/testkit"
)

// ToxiproxyVersion is the toxiproxy-server .ci/run installs
// (go install github.com/Shopify/toxiproxy/v2/cmd/server@ToxiproxyVersion).
const ToxiproxyVersion = "v2.5.0"

// Toxiproxy is a running toxiproxy-server, Shopify's TCP fault injector,
// driven through its HTTP API: each Proxy sits between fedgate and one
// dependency and is given latency, hangs, resets or an outage on demand.
type Toxiproxy struct {
	API  string // http://127.0.0.1:PORT
	http *http.Client
}

// toxiproxyBinary finds toxiproxy-server: on PATH under that name, or as
// `server` in GOPATH/bin, where `go install …/cmd/server` puts it.
func toxiproxyBinary() (string, error) {
	if p, err := exec.LookPath("toxiproxy-server"); err == nil {
		return p, nil
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", err
	}
	p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "server")
	out, err := exec.Command(p, "-version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "toxiproxy") {
		return "", fmt.Errorf("toxiproxy-server not found (go install github.com/Shopify/toxiproxy/v2/cmd/server@%s)", ToxiproxyVersion)
	}
	return p, nil
}

// StartToxiproxy runs toxiproxy-server on a free loopback port and stops it
// when the test ends. Missing: Required (a failure under CI).
func StartToxiproxy(t testing.TB) *Toxiproxy {
	t.Helper()
	bin, err := toxiproxyBinary()
	if err != nil {
		Required(t, err.Error())
		return nil
	}
	port := testkit.FreePort(t)
	cmd := exec.Command(bin, "-host", "127.0.0.1", "-port", fmt.Sprint(port))
	p, err := runProcess(t, "toxiproxy", cmd, nil)
	if err != nil {
		t.Fatal(err)
	}
	tp := &Toxiproxy{API: fmt.Sprintf("http://127.0.0.1:%d", port), http: &http.Client{Timeout: 10 * time.Second}}
	if err := testkit.WaitHTTP(tp.API+"/version", 20*time.Second, p.done()); err != nil {
		t.Fatalf("toxiproxy: %v\n%s", err, p.output.String())
	}
	return tp
}

// Proxy is one toxiproxy proxy: connections to Listen go to the upstream
// through whatever toxics are set.
type Proxy struct {
	tp     *Toxiproxy
	Name   string
	Listen string // 127.0.0.1:PORT
}

// URL is http://Listen, for HTTP dependencies.
func (p *Proxy) URL() string { return "http://" + p.Listen }

// Proxy creates a proxy to upstream (host:port) listening on listen
// ("127.0.0.1:0" for any free port).
func (tp *Toxiproxy) Proxy(t testing.TB, name, listen, upstream string) *Proxy {
	t.Helper()
	var out struct{ Listen string }
	tp.call(t, http.MethodPost, "/proxies", map[string]any{"name": name, "listen": listen, "upstream": upstream, "enabled": true}, &out)
	return &Proxy{tp: tp, Name: name, Listen: out.Listen}
}

// Toxic adds a toxic of kind (latency, timeout, reset_peer, bandwidth,
// slow_close, limit_data…) to the downstream or upstream direction.
func (p *Proxy) Toxic(t testing.TB, name, kind, stream string, attributes map[string]any) {
	t.Helper()
	p.tp.call(t, http.MethodPost, "/proxies/"+p.Name+"/toxics",
		map[string]any{"name": name, "type": kind, "stream": stream, "toxicity": 1.0, "attributes": attributes}, nil)
}

// RemoveToxic takes a toxic off again.
func (p *Proxy) RemoveToxic(t testing.TB, name string) {
	t.Helper()
	p.tp.call(t, http.MethodDelete, "/proxies/"+p.Name+"/toxics/"+name, nil, nil)
}

// SetEnabled takes the dependency away (false: every open connection is
// closed and new ones are refused) or brings it back.
func (p *Proxy) SetEnabled(t testing.TB, enabled bool) {
	t.Helper()
	p.tp.call(t, http.MethodPost, "/proxies/"+p.Name, map[string]any{"enabled": enabled}, nil)
}

func (tp *Toxiproxy) call(t testing.TB, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, tp.API+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := tp.http.Do(req)
	if err != nil {
		t.Fatalf("toxiproxy %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		t.Fatalf("toxiproxy %s %s: HTTP %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("toxiproxy %s %s: %v", method, path, err)
		}
	}
}
