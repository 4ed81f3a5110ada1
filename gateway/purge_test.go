package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

// The purger deletes expired sign-in flows and device codes and guest
// identities unused for longer than the pool's guest_ttl; live flows,
// a guest that vended, and signed-in identities stay.
func TestPurgerDeletesExpiredFlowsDeviceCodesAndIdleGuests(t *testing.T) {
	h := newCogHarness(t, func(f *config.File) { f.Pools[0].GuestTTL = config.Duration(7 * 24 * time.Hour) })
	ctx := context.Background()
	startFlow := func() {
		t.Helper()
		w := httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/login/mobile/corp", nil))
		if w.Code != http.StatusFound {
			t.Fatalf("GET /login: HTTP %d %s", w.Code, w.Body)
		}
	}
	startFlow()
	req := httptest.NewRequest(http.MethodPost, "/cli/device", strings.NewReader(url.Values{"pool": {"mobile"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := h.do(req); r.status != http.StatusOK {
		t.Fatalf("POST /cli/device: HTTP %d %s", r.status, r.body)
	}
	idle := h.mustID(cogPoolID, nil)
	active := h.mustID(cogPoolID, nil)
	alice := h.mustID(cogPoolID, h.logins("alice"))
	if n := countKind(t, h.dbPath, "login-flow") + countKind(t, h.dbPath, "cli-device") + countKind(t, h.dbPath, "cli-user-code"); n != 3 {
		t.Fatalf("%d flow and device rows, want 3", n)
	}

	// Nothing is due yet.
	if n, err := h.srv.core.PurgeOnce(ctx); err != nil || n != (core.PurgeCounts{}) {
		t.Fatalf("first round purged %+v, %v; want nothing", n, err)
	}
	// Day 5: the flow and the device code have expired; a new flow is live;
	// one guest vends.
	h.clock.Advance(5 * 24 * time.Hour)
	startFlow()
	if r := h.call("GetCredentialsForIdentity", map[string]any{"IdentityId": active}); r.status != http.StatusOK {
		t.Fatalf("guest vend: HTTP %d %s", r.status, r.body)
	}
	n, err := h.srv.core.PurgeOnce(ctx)
	if err != nil || n.Expired != 3 || n.Guests != 0 {
		t.Fatalf("day 5 purged %+v, %v; want the flow, the device code and its user code", n, err)
	}
	if f := countKind(t, h.dbPath, "login-flow"); f != 1 {
		t.Errorf("%d flows after the purge, want the live one", f)
	}
	if d := countKind(t, h.dbPath, "cli-device"); d != 0 {
		t.Errorf("%d device codes after the purge, want 0", d)
	}
	// Day 8: the guest that never vended is idle past 7 days; the one that
	// vended on day 5 is not; alice signed in and is no guest.
	h.clock.Advance(3 * 24 * time.Hour)
	if n, err = h.srv.core.PurgeOnce(ctx); err != nil || n.Guests != 1 {
		t.Fatalf("day 8 purged %+v, %v; want one guest", n, err)
	}
	for id, want := range map[string]bool{idle: false, active: true, alice: true} {
		if _, err := h.store.LookupIdentity(ctx, id); (err == nil) != want {
			t.Errorf("identity %s: kept = %v, want %v", id, err == nil, want)
		}
	}
	if r := h.call("GetCredentialsForIdentity", map[string]any{"IdentityId": idle}); r.errorType() != "ResourceNotFoundException" {
		t.Errorf("purged guest: %s, want ResourceNotFoundException", r.body)
	}
}

// The purge loop runs on its own and stops when the server shuts down.
func TestPurgeLoopRunsAndStopsOnShutdown(t *testing.T) {
	h := newCogHarness(t)
	h.mustID(cogPoolID, nil)
	h.clock.Advance(config.DefaultGuestTTL + time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { h.srv.core.Purge(ctx, 10*time.Millisecond); close(stopped) }()
	deadline := time.Now().Add(10 * time.Second)
	for h.identities() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the loop did not purge the idle guest")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the purge loop did not stop on shutdown")
	}
}
