package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"fedgate/gateway/buildinfo"
	"fedgate/gateway/testkit"
)

// withOpsListener gives fedgate an ops listener and returns its URL
// through *opsURL.
func withOpsListener(opsURL *string) envOption {
	return func(e *env) string {
		port := testkit.FreePort(e.t)
		*opsURL = fmt.Sprintf("http://127.0.0.1:%d", port)
		e.serverYAML += fmt.Sprintf("  ops_listen: 127.0.0.1:%d\n", port)
		return ""
	}
}

// An operator runs fedgate with an ops listener: metrics and the profiler
// are there and not on the public address; both answer health and
// readiness, and readiness names the build that `fedgate version` names.
// The start-up line says where fedgate listens and what it talks to,
// without a secret.
func TestEndToEndOpsListenerAndVersion(t *testing.T) {
	var opsURL string
	e := startEnv(t, withOpsListener(&opsURL))

	version := func(args ...string) (string, error) {
		out, err := exec.Command(e.bin, append([]string{"version"}, args...)...).CombinedOutput()
		return string(out), err
	}
	out, err := version("--json")
	if err != nil {
		t.Fatalf("fedgate version --json: %v\n%s", err, out)
	}
	var build buildinfo.Info
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &build); err != nil || build.GoVersion != runtime.Version() || build.Version == "" {
		t.Fatalf("fedgate version --json = %s (%v)", out, err)
	}
	text, err := version()
	if err != nil || !strings.HasPrefix(text, "fedgate "+build.Version+"\n") || !strings.Contains(text, "go:       "+runtime.Version()) {
		t.Errorf("fedgate version:\n%s", text)
	}

	for _, base := range []string{e.url, opsURL} {
		status, _, body := get(t, nil, base+"/readyz")
		var ready struct {
			Status string `json:"status"`
			buildinfo.Info
		}
		if err := json.Unmarshal([]byte(body), &ready); err != nil || status != http.StatusOK || ready.Status != "ready" || ready.Info != build {
			t.Errorf("%s/readyz: HTTP %d %s, want ready with %+v", base, status, body, build)
		}
		if status, _, _ := get(t, nil, base+"/healthz"); status != http.StatusOK {
			t.Errorf("%s/healthz: HTTP %d", base, status)
		}
	}
	for _, tc := range []struct {
		path, want string
	}{
		{"/metrics", "fedgate_http_requests_total"},
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile"},
	} {
		if status, _, body := get(t, nil, opsURL+tc.path); status != http.StatusOK || !strings.Contains(body, tc.want) {
			t.Errorf("ops %s: HTTP %d, want %q", tc.path, status, tc.want)
		}
		if status, _, _ := get(t, nil, e.url+tc.path); status != http.StatusNotFound {
			t.Errorf("public %s: HTTP %d, want 404", tc.path, status)
		}
	}

	var line map[string]any
	for _, r := range e.logs.Records(t) {
		if r["msg"] == "fedgate listening" {
			line = r
		}
	}
	want := map[string]any{
		"address": fmt.Sprintf("127.0.0.1:%d", e.port), "ops_address": strings.TrimPrefix(opsURL, "http://"),
		"public_url": e.publicURL, "store_driver": "sqlite", "sts_endpoint": e.tap.URL,
		"version": build.Version, "revision": build.Revision, "go": build.GoVersion,
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("start-up line %s = %v, want %v (line: %v)", k, line[k], v, line)
		}
	}
	raw, _ := json.Marshal(line)
	for _, secret := range []string{e2eMasterKey, e2eClientSecret} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("start-up line carries a secret: %s", raw)
		}
	}
}
