package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fedgate/gateway/cognito"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
	"fedgate/gateway/testkit"
)

// hangStore is a store whose chosen method blocks until the request's
// context is cancelled, as a slow database does while the client hangs
// up; every other call goes through.
type hangStore struct {
	store.Store
	mu      sync.Mutex
	method  string
	entered chan struct{}
	// failing, when set, fails every call of failMethod with it.
	failMethod string
	failing    error
}

// failIn makes every call of method fail with err (nil: no more).
func (s *hangStore) failIn(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failMethod, s.failing = method, err
}

// hangIn makes the next call of method hang; the channel closes when it
// is entered.
func (s *hangStore) hangIn(method string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.method, s.entered = method, make(chan struct{})
	return s.entered
}

func (s *hangStore) hang(ctx context.Context, method string) error {
	s.mu.Lock()
	if s.failing != nil && s.failMethod == method {
		defer s.mu.Unlock()
		return s.failing
	}
	if s.method != method {
		s.mu.Unlock()
		return nil
	}
	s.method = ""
	close(s.entered)
	s.mu.Unlock()
	<-ctx.Done()
	return fmt.Errorf("store: %s: %w", method, ctx.Err())
}

func (s *hangStore) PutEphemeral(ctx context.Context, kind, key string, data []byte, expires time.Time) error {
	if err := s.hang(ctx, "PutEphemeral"); err != nil {
		return err
	}
	return s.Store.PutEphemeral(ctx, kind, key, data, expires)
}

func (s *hangStore) GetEphemeral(ctx context.Context, kind, key string, now time.Time) ([]byte, error) {
	if err := s.hang(ctx, "GetEphemeral"); err != nil {
		return nil, err
	}
	return s.Store.GetEphemeral(ctx, kind, key, now)
}

func (s *hangStore) GetOrCreateIdentity(ctx context.Context, k store.IdentityKey, newID string) (string, bool, error) {
	if err := s.hang(ctx, "GetOrCreateIdentity"); err != nil {
		return "", false, err
	}
	return s.Store.GetOrCreateIdentity(ctx, k, newID)
}

func (s *hangStore) LookupIdentity(ctx context.Context, id string) (*store.IdentityRecord, error) {
	if err := s.hang(ctx, "LookupIdentity"); err != nil {
		return nil, err
	}
	return s.Store.LookupIdentity(ctx, id)
}

func (s *hangStore) ListAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	if err := s.hang(ctx, "ListAudit"); err != nil {
		return nil, err
	}
	return s.Store.ListAudit(ctx, q)
}

// hangUp serves req until the store call method is entered, then hangs
// up (cancels the request's context) and returns what was answered.
func hangUp(t *testing.T, h http.Handler, hs *hangStore, method string, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	entered := hs.hangIn(method)
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	req = req.WithContext(ctx)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { h.ServeHTTP(rec, req); close(done) }()
	select {
	case <-entered:
	case <-done:
		t.Fatalf("the request finished (HTTP %d) without calling %s", rec.Code, method)
	case <-time.After(10 * time.Second):
		t.Fatalf("the request never called %s", method)
	}
	cancel()
	<-done
	return rec
}

// wantClientClosed checks a hang-up's answer and log: a 499 logged at
// WARN, nothing at ERROR.
func wantClientClosed(t *testing.T, rec *httptest.ResponseRecorder, logs *testkit.LogBuffer) {
	t.Helper()
	if rec.Code != core.StatusClientClosed || !strings.Contains(rec.Body.String(), core.CodeClientClosed) {
		t.Errorf("HTTP %d %s, want %d %s", rec.Code, rec.Body, core.StatusClientClosed, core.CodeClientClosed)
	}
	if errs := logs.AtLevel(t, "ERROR"); len(errs) > 0 {
		t.Errorf("a client hang-up was logged at ERROR: %v", errs)
	}
	warned := false
	for _, r := range logs.AtLevel(t, "WARN") {
		if s, _ := r["status"].(float64); s == core.StatusClientClosed {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no WARN line with status 499 in %v", logs.Records(t))
	}
}

// A client that hangs up while a handler waits on the store is a 499 at
// WARN on every surface, never a 500 at ERROR.
func TestClientHangUpIsA499OnEverySurface(t *testing.T) {
	form := func(path string, v url.Values) *http.Request {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	tests := []struct {
		surface, method string
		req             func(h *gwHarness) *http.Request
	}{
		{"sign-in: GET /login stores a flow", "PutEphemeral", func(*gwHarness) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/login/team/demo", nil)
		}},
		{"browser: the role picker reads the session", "GetEphemeral", func(*gwHarness) *http.Request {
			req := form("/roles", url.Values{"role": {gwReader}, "csrf": {"x"}})
			req.AddCookie(&http.Cookie{Name: sessCookie, Value: strings.Repeat("ab", 32)})
			return req
		}},
		{"JSON API: the identity", "GetOrCreateIdentity", func(*gwHarness) *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/credentials", strings.NewReader(`{"pool":"team"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+gwTokenAlice)
			return req
		}},
		{"CLI: POST /cli/device stores the codes", "PutEphemeral", func(*gwHarness) *http.Request {
			return form("/cli/device", url.Values{"pool": {"team"}, "provider": {"demo"}})
		}},
		{"CLI: the token endpoint reads the device code", "GetEphemeral", func(*gwHarness) *http.Request {
			return form("/cli/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {"some-device-code"}})
		}},
		{"admin: the audit log", "ListAudit", func(*gwHarness) *http.Request {
			req := httptest.NewRequest(http.MethodGet, "/admin/api/v1/audit", nil)
			req.Header.Set("Authorization", "Bearer "+gwAdminToken)
			return req
		}},
	}
	for _, tt := range tests {
		t.Run(tt.surface, func(t *testing.T) {
			h := newGWHarness(t, withAdmin)
			rec := hangUp(t, h.srv.Handler(), h.hang, tt.method, tt.req(h))
			wantClientClosed(t, rec, h.logs)
		})
	}
}

// The Cognito API: GetId creating a guest identity, and the identity
// lookup of GetCredentialsForIdentity.
func TestCognitoClientHangUpIsA499(t *testing.T) {
	cogReq := func(op, body string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", cognito.ContentType)
		req.Header.Set("X-Amz-Target", cognito.TargetPrefix+op)
		return req
	}
	t.Run("GetId of a guest", func(t *testing.T) {
		h := newCogHarness(t)
		h.logs.Reset()
		rec := hangUp(t, h.srv.Handler(), h.hang, "GetOrCreateIdentity", cogReq("GetId", `{"IdentityPoolId":"`+cogPoolID+`"}`))
		wantClientClosed(t, rec, h.logs)
	})
	t.Run("GetId with a login", func(t *testing.T) {
		h := newCogHarness(t)
		logins := h.logins("alice")
		h.logs.Reset()
		var key, token string
		for key, token = range logins {
		}
		rec := hangUp(t, h.srv.Handler(), h.hang, "GetOrCreateIdentity", cogReq("GetId", `{"IdentityPoolId":"`+cogPoolID+`","Logins":{"`+key+`":"`+token+`"}}`))
		wantClientClosed(t, rec, h.logs)
	})
	t.Run("the identity lookup", func(t *testing.T) {
		h := newCogHarness(t)
		id := h.mustID(cogPoolID, nil)
		h.logs.Reset()
		rec := hangUp(t, h.srv.Handler(), h.hang, "LookupIdentity", cogReq("GetCredentialsForIdentity", `{"IdentityId":"`+id+`"}`))
		wantClientClosed(t, rec, h.logs)
	})
}
