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

	"fedgate/gateway/cognito"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// On SIGTERM (ctx cancelled) Serve stops accepting, lets the in-flight
// request finish and returns nil.
func TestServeGracefulShutdown(t *testing.T) {
	h := newGWHarness(t)
	entered, release := h.sts.Hold()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- h.srv.Serve(ctx, ln) }()

	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, addr+"/api/v1/credentials", strings.NewReader(`{"pool":"team"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+gwTokenAlice)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		slow <- result{status: resp.StatusCode, body: string(b)}
	}()
	select {
	case <-entered: // the request is inside the STS call
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached STS")
	}
	cancel() // SIGTERM
	// New connections are refused once shutdown begins.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
		if err != nil {
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) with a request in flight", err)
	default:
	}
	release() // STS answers; the request completes
	r := <-slow
	if r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, "ASIAFAKE") {
		t.Fatalf("in-flight request: %d %v %s", r.status, r.err, r.body)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after draining")
	}
}

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

// TestAuditSurvivesClientDisconnect is a regression test: the audit entry
// of a vend was written with the request's context, so a client that hung
// up after STS had answered (found by testdata/load/run.sh, stopping the
// load mid-run) left credentials vended and no audit entry for them.
func TestAuditSurvivesClientDisconnect(t *testing.T) {
	h := newGWHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone
	h.srv.core.Audit(ctx, store.AuditEntry{Kind: store.AuditVend, Provider: "app", Subject: "alice", Pool: "team",
		Role: gwReader, IdentityID: "us-east-1:00000000-0000-4000-8000-000000000001", Result: store.AuditOK, Reason: "rule readers"})
	es := h.auditEntries(store.AuditQuery{Kind: store.AuditVend})
	if len(es) != 1 || es[0].Subject != "alice" || es[0].Result != store.AuditOK {
		t.Fatalf("audit entries after a disconnect: %+v", es)
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
