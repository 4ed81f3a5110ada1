package gateway

import (
	"context"
	"fedgate/gateway/core"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A client that hangs up while fedgate waits on STS is not an STS outage:
// the refusal is a 499 logged at WARN, never an ERROR that pages someone.
func TestClientHangUpDuringVendIsNotAnSTSError(t *testing.T) {
	h := newGWHarness(t)
	entered, _ := h.sts.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodPost, "/api/v1/credentials", strings.NewReader(`{"pool":"team"}`)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+gwTokenAlice)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { h.srv.Handler().ServeHTTP(rec, req); close(done) }()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached STS")
	}
	cancel()
	<-done
	if rec.Code != core.StatusClientClosed || !strings.Contains(rec.Body.String(), core.CodeClientClosed) {
		t.Errorf("hang-up: HTTP %d %s, want %d %s", rec.Code, rec.Body.String(), core.StatusClientClosed, core.CodeClientClosed)
	}
	if errs := h.logs.AtLevel(t, "ERROR"); len(errs) > 0 {
		t.Errorf("a client hang-up was logged at ERROR: %v", errs)
	}
}
