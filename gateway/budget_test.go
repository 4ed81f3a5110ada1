package gateway

import (
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// countRows runs a count query straight on the SQLite file, past the
// store's API.
func countRows(t testing.TB, dbPath, query string, args ...any) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func countKind(t testing.TB, dbPath, kind string) int64 {
	return countRows(t, dbPath, `SELECT count(*) FROM ephemeral WHERE kind = ?`, kind)
}

// from sends req as the client at addr (host:port) would.
func from(addr string, req *http.Request) *http.Request {
	req.RemoteAddr = addr
	return req
}

// wantOverBudget checks a refusal by a per-address budget: 429, a
// Retry-After of whole seconds, no audit entry.
func wantOverBudget(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("over budget: HTTP %d %s, want 429", w.Code, w.Body)
	}
	if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want whole seconds", w.Header().Get("Retry-After"))
	}
}

// Every GET /login stores a flow before anyone signs in: a source address
// has a budget of them (IPv6 by /64), and past it gets 429 with
// Retry-After, stores nothing, and is counted but not audited.
func TestSignInBudgetPerAddress(t *testing.T) {
	h := newGWHarness(t, func(f *config.File) { f.Server.SignInRatePerAddress, f.Server.SignInBurstPerAddress = 0.5, 3 })
	login := func(addr string) *httptest.ResponseRecorder {
		return h.do(from(addr, httptest.NewRequest(http.MethodGet, "/login/team/demo", nil)))
	}
	for i := range 3 {
		if w := login("198.51.100.7:1000"); w.Code != http.StatusOK {
			t.Fatalf("sign-in %d within budget: HTTP %d", i, w.Code)
		}
	}
	flows := countKind(t, h.dbPath, "login-flow")
	w := login("198.51.100.7:2000")
	wantOverBudget(t, w)
	if w.Header().Get("Retry-After") != "2" {
		t.Errorf("Retry-After = %q, want 2 (one token at 0.5/s)", w.Header().Get("Retry-After"))
	}
	if !strings.Contains(w.Body.String(), "Too many sign-ins") {
		t.Errorf("page does not say why:\n%s", w.Body)
	}
	if n := countKind(t, h.dbPath, "login-flow"); n != flows {
		t.Errorf("a refused sign-in stored a flow: %d -> %d", flows, n)
	}
	if es := h.auditEntries(store.AuditQuery{}); len(es) != 0 {
		t.Errorf("a throttled sign-in was audited: %+v", es)
	}
	m := h.do(httptest.NewRequest(http.MethodGet, "/metrics", nil)).Body.String()
	if !strings.Contains(m, `fedgate_http_requests_total{code="429",method="GET",route="/login/:pool/:provider"} 1`) {
		t.Errorf("the throttle is not in the metrics:\n%s", m)
	}
	// Another address has its own budget; one /64 is one address.
	if w := login("203.0.113.9:1000"); w.Code != http.StatusOK {
		t.Errorf("another address: HTTP %d", w.Code)
	}
	for i, addr := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2::2]:1", "[2001:db8:1:2:ffff::3]:1"} {
		if w := login(addr); w.Code != http.StatusOK {
			t.Fatalf("IPv6 sign-in %d: HTTP %d", i, w.Code)
		}
	}
	wantOverBudget(t, login("[2001:db8:1:2:abcd::9]:1"))
	// The budget refills.
	h.clock.Advance(2 * time.Second)
	if w := login("198.51.100.7:3000"); w.Code != http.StatusOK {
		t.Errorf("after the wait: HTTP %d", w.Code)
	}
}

// POST /cli/device stores two entries: its budget per source address
// follows X-Forwarded-For only from a trusted proxy.
func TestDeviceCodeBudgetPerAddress(t *testing.T) {
	h := newGWHarness(t, func(f *config.File) {
		f.CLI.DeviceRatePerAddress, f.CLI.DeviceBurstPerAddress = 0.1, 2
		f.Server.TrustedProxies = []string{"192.0.2.10"}
	})
	device := func(peer, forwarded string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/cli/device", strings.NewReader(url.Values{"pool": {"team"}, "provider": {"demo"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		return h.do(from(peer, req))
	}
	for i := range 2 {
		if w := device("192.0.2.10:1", "203.0.113.1"); w.Code != http.StatusOK {
			t.Fatalf("device code %d: HTTP %d %s", i, w.Code, w.Body)
		}
	}
	codes := countKind(t, h.dbPath, "cli-device")
	w := device("192.0.2.10:1", "203.0.113.1")
	wantOverBudget(t, w)
	if e := gwAPIError(t, w); e.Code != "rate_limited" {
		t.Errorf("code %q, want rate_limited", e.Code)
	}
	if n := countKind(t, h.dbPath, "cli-device"); n != codes {
		t.Errorf("a refused request stored a device code: %d -> %d", codes, n)
	}
	// Behind the trusted proxy another client has its own budget.
	if w := device("192.0.2.10:1", "203.0.113.2"); w.Code != http.StatusOK {
		t.Errorf("another client behind the proxy: HTTP %d", w.Code)
	}
	// An untrusted peer's X-Forwarded-For does not buy a fresh bucket.
	for i, fwd := range []string{"198.51.100.1", "198.51.100.2"} {
		if w := device("198.51.100.50:1", fwd); w.Code != http.StatusOK {
			t.Fatalf("untrusted peer, request %d: HTTP %d", i, w.Code)
		}
	}
	wantOverBudget(t, device("198.51.100.50:1", "198.51.100.3"))
}

// Each GetId without logins stores a guest identity: a source address
// has a budget of them; past it, TooManyRequestsException with
// Retry-After and no identity. GetId with logins is not charged.
func TestCognitoGuestBudgetPerAddress(t *testing.T) {
	h := newCogHarness(t, func(f *config.File) { f.Cognito.GuestRatePerAddress, f.Cognito.GuestBurstPerAddress = 0.2, 2 })
	h.mustID(cogPoolID, nil)
	h.mustID(cogPoolID, nil)
	before := h.identities()
	r := h.call("GetId", map[string]any{"IdentityPoolId": cogPoolID})
	if r.status == http.StatusOK || r.errorType() != cognito429 || r.header.Get("Retry-After") != "5" {
		t.Errorf("guest over budget: HTTP %d %s Retry-After %q, want TooManyRequestsException, Retry-After 5", r.status, r.body, r.header.Get("Retry-After"))
	}
	if n := h.identities(); n != before {
		t.Errorf("a refused GetId stored an identity: %d -> %d", before, n)
	}
	if id := h.mustID(cogPoolID, h.logins("alice")); id == "" {
		t.Error("GetId with a login was refused")
	}
	es, err := h.store.ListAudit(t.Context(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if strings.Contains(e.Reason, cognito429) {
			t.Errorf("a throttled GetId was audited: %+v", e)
		}
	}
	h.clock.Advance(5 * time.Second)
	h.mustID(cogPoolID, nil)
}

const cognito429 = "TooManyRequestsException"
