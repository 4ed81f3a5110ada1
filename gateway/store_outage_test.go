package gateway

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fedgate/gateway/store"
)

// A store whose database cannot be reached answers 503 with Retry-After
// on every surface, in each surface's own words, never a 500.
func TestStoreUnreachableAnswers503(t *testing.T) {
	unreachable := &store.Error{Op: "x", Kind: store.ErrUnavailable, Err: errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")}
	for _, tc := range []struct {
		name   string
		method string // the store call that fails
		call   func(h *gwHarness) *httptest.ResponseRecorder
		want   []string // in the body
	}{
		{"JSON API vend", "GetOrCreateIdentity", func(h *gwHarness) *httptest.ResponseRecorder {
			return h.api(gwTokenAlice, `{"pool":"team"}`)
		}, []string{`"code":"store_unavailable"`, "cannot reach its store"}},
		{"browser sign-in page", "PutEphemeral", func(h *gwHarness) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, "/login/team/demo", nil)
			req.Header.Set("Accept", "text/html")
			return h.do(req)
		}, []string{"<html", "Try again in a moment", "store_unavailable"}},
		{"CLI device poll", "GetEphemeral", func(h *gwHarness) *httptest.ResponseRecorder {
			code, _ := h.deviceStart()["device_code"].(string)
			w, _ := h.cliForm("/cli/token", map[string][]string{"grant_type": {grantDeviceCode}, "device_code": {code}})
			return w
		}, []string{`"error":"temporarily_unavailable"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newGWHarness(t)
			h.hang.failIn(tc.method, unreachable)
			w := tc.call(h)
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
				t.Fatalf("HTTP %d Retry-After %q: %s", w.Code, w.Header().Get("Retry-After"), w.Body)
			}
			for _, want := range tc.want {
				if !strings.Contains(w.Body.String(), want) {
					t.Errorf("the answer lacks %q: %s", want, w.Body)
				}
			}
			if strings.Contains(w.Body.String(), "10.0.0.5") {
				t.Errorf("the answer leaks the cause: %s", w.Body)
			}
		})
	}
}
