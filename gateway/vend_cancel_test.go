package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/cognito"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
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

// The same holds for a Cognito guest's vend: the audit log records the
// hang-up as a refusal (client_closed_request), not an STS failure.
func TestCognitoGuestHangUpDuringVendIsNotAnSTSError(t *testing.T) {
	h := newCogHarness(t)
	id := h.mustID(cogPoolID, nil)
	entered, _ := h.sts.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"IdentityId":"`+id+`"}`)).WithContext(ctx)
	req.Header.Set("Content-Type", cognito.ContentType)
	req.Header.Set("X-Amz-Target", cognito.TargetPrefix+"GetCredentialsForIdentity")
	done := make(chan struct{})
	go func() { h.do(req); close(done) }()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached STS")
	}
	cancel()
	<-done
	es, err := h.store.ListAudit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		if e.Kind == store.AuditVend && e.IdentityID == id {
			got = append(got, e.Result+" "+e.Reason)
		}
	}
	if want := store.AuditRefused + " " + core.CodeClientClosed; len(got) != 1 || got[0] != want {
		t.Errorf("audit of the hang-up: %q, want [%q]", got, want)
	}
}
