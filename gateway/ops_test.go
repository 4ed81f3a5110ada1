package gateway

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/buildinfo"
	"fedgate/gateway/config"
)

// With server.ops_listen set, metrics and the profiler are served on the
// ops listener only; health and readiness on both.
func TestOpsListenerServesWhatThePublicOneDoesNot(t *testing.T) {
	h := newGWHarness(t, func(f *config.File) { f.Server.OpsListen = "127.0.0.1:9090" })
	ops := h.srv.OpsHandler()
	opsGet := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		ops.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	for _, tc := range []struct {
		path            string
		public, onOps   int
		opsBodyContains string
	}{
		{"/metrics", http.StatusNotFound, http.StatusOK, "fedgate_http_requests_total"},
		{"/debug/pprof/", http.StatusNotFound, http.StatusOK, "goroutine"},
		{"/debug/pprof/heap?debug=1", http.StatusNotFound, http.StatusOK, "heap profile"},
		{"/debug/pprof/cmdline", http.StatusNotFound, http.StatusOK, ""},
		{"/healthz", http.StatusOK, http.StatusOK, "ok"},
		{"/readyz", http.StatusOK, http.StatusOK, `"status":"ready"`},
		{"/login/team/demo", http.StatusOK, http.StatusNotFound, ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if w := h.do(httptest.NewRequest(http.MethodGet, tc.path, nil)); w.Code != tc.public {
				t.Errorf("public %s: HTTP %d, want %d", tc.path, w.Code, tc.public)
			}
			w := opsGet(tc.path)
			if w.Code != tc.onOps || !strings.Contains(w.Body.String(), tc.opsBodyContains) {
				t.Errorf("ops %s: HTTP %d, want %d with %q:\n%.300s", tc.path, w.Code, tc.onOps, tc.opsBodyContains, w.Body)
			}
		})
	}
}

// Without server.ops_listen, /metrics stays on the public listener and
// the profiler is nowhere.
func TestWithoutOpsListenerMetricsArePublic(t *testing.T) {
	h := newGWHarness(t)
	if w := h.do(httptest.NewRequest(http.MethodGet, "/metrics", nil)); w.Code != http.StatusOK {
		t.Errorf("/metrics: HTTP %d", w.Code)
	}
	if w := h.do(httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil)); w.Code != http.StatusNotFound {
		t.Errorf("/debug/pprof/: HTTP %d, want 404", w.Code)
	}
}

// ServeListeners answers on both sockets and stops both when its context
// ends.
func TestServeListenersPublicAndOps(t *testing.T) {
	h := newGWHarness(t, func(f *config.File) { f.Server.OpsListen = "127.0.0.1:9090" })
	h.srv.build = buildinfo.Info{Version: "v9.9.9", GoVersion: "go-test"}
	public, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.ServeListeners(ctx, Listeners{Public: public, Ops: ops}) }()
	get := func(ln net.Listener, path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(ops, "/readyz"); code != http.StatusOK || !strings.Contains(body, `"version":"v9.9.9"`) {
		t.Errorf("ops /readyz: %d %s", code, body)
	}
	if code, _ := get(ops, "/metrics"); code != http.StatusOK {
		t.Errorf("ops /metrics: %d", code)
	}
	if code, _ := get(public, "/metrics"); code != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeListeners: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("ServeListeners did not stop")
	}
	for _, ln := range []net.Listener{public, ops} {
		if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections", ln.Addr())
		}
	}
}
