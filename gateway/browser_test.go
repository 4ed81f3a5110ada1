package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

// refusal runs attack and checks what every refusal owes: the status, the
// stable code (in the JSON body or on the HTML page), no-store, nothing
// changed in the store, exactly one WARN line.
func (h *gwHarness) refusal(t *testing.T, attack func() *httptest.ResponseRecorder, status int, code string) *httptest.ResponseRecorder {
	t.Helper()
	w := h.refused(t, attack, status)
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if e := gwAPIError(t, w); e.Code != code {
			t.Errorf("code %q, want %q", e.Code, code)
		}
	} else if !strings.Contains(w.Body.String(), "<code>"+code+"</code>") {
		t.Errorf("page does not show code %q:\n%s", code, w.Body)
	}
	if calls := len(h.sts.WebIdentityCalls()); calls != 0 {
		t.Errorf("a refusal reached STS (%d calls)", calls)
	}
	return w
}

// refused runs attack and checks what any refusal, page or API, owes: the
// status, no-store, nothing changed in the store, exactly one WARN line.
func (h *gwHarness) refused(t *testing.T, attack func() *httptest.ResponseRecorder, status int) *httptest.ResponseRecorder {
	t.Helper()
	before := h.state()
	h.logs.Reset()
	w := attack()
	if w.Code != status {
		t.Fatalf("status %d, want %d\n%s", w.Code, status, w.Body)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if after := h.state(); after != before {
		t.Errorf("refusal changed the store: %+v -> %+v", before, after)
	}
	if n := len(h.logs.AtLevel(t, "WARN")); n != 1 {
		t.Errorf("%d WARN lines, want exactly 1:\n%s", n, h.logs)
	}
	return w
}

func TestPasswordLoginSuccess(t *testing.T) {
	h := newGWHarness(t)
	b := h.browser()
	w := b.signInCreds("team", "alice", gwPassAlice)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "ASIAFAKE00000001") {
		t.Fatalf("alice: %d\n%s", w.Code, w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("credentials page is cacheable")
	}
	if s := h.state(); s.identities != 1 {
		t.Errorf("identities = %d, want 1", s.identities)
	}
	calls := h.sts.WebIdentityCalls()
	if len(calls) != 1 || calls[0].RoleARN != gwReader || calls[0].SessionName != "alice@example.com" || calls[0].Duration != time.Hour {
		t.Fatalf("STS calls %+v", calls)
	}
	// Signing in again reuses the identity.
	if w := b.signInCreds("team", "alice", gwPassAlice); w.Code != http.StatusOK {
		t.Fatalf("second sign-in: %d", w.Code)
	}
	if s := h.state(); s.identities != 1 {
		t.Errorf("identities = %d after a second sign-in, want 1", s.identities)
	}
}

func TestPasswordLoginWrongPassword(t *testing.T) {
	h := newGWHarness(t)
	b := h.browser()
	old := b.startLogin("team")
	w := h.refused(t, func() *httptest.ResponseRecorder {
		return b.post("/login/team/demo", url.Values{"state": {old}, "username": {"alice"}, "password": {"wrong"}})
	}, http.StatusUnauthorized)
	body := w.Body.String()
	if !strings.Contains(body, "Wrong username or password.") {
		t.Errorf("no error message on the re-rendered form:\n%s", body)
	}
	if !strings.Contains(body, `value="alice"`) {
		t.Error("username not kept on the re-rendered form")
	}
	fresh := gwFind(t, gwStatePattern, body)
	if fresh == old {
		t.Fatal("the re-rendered form reuses the spent state")
	}
	// The fresh state works, in this browser, with the right password.
	if w := b.post("/login/team/demo", aliceForm(fresh)); w.Code != http.StatusSeeOther {
		t.Fatalf("fresh state refused: %d\n%s", w.Code, w.Body)
	}
	h.sts.Reset()
	// The old state is spent.
	h.refusal(t, func() *httptest.ResponseRecorder {
		return b.post("/login/team/demo", aliceForm(old))
	}, http.StatusBadRequest, core.CodeFlowExpired)
}

// aliceForm is alice's correct password form for the sign-in state.
func aliceForm(state string) url.Values {
	return url.Values{"state": {state}, "username": {"alice"}, "password": {gwPassAlice}}
}

// loginPost is the attack most refusal cases end with: b posts form to the
// team pool's demo provider.
func loginPost(b *gwBrowser, form url.Values) func() *httptest.ResponseRecorder {
	return func() *httptest.ResponseRecorder { return b.post("/login/team/demo", form) }
}

func TestPasswordLoginRefusals(t *testing.T) {
	long := strings.Repeat("u", maxFormField+1)
	tests := []struct {
		name    string
		prepare func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder
		status  int
		code    string
	}{
		{"foreign origin", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("team")
			b.origin = "https://evil.example.com"
			return loginPost(b, aliceForm(state))
		}, http.StatusForbidden, core.CodeCSRF},
		{"opaque origin null", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("team")
			b.origin = "null"
			return loginPost(b, aliceForm(state))
		}, http.StatusForbidden, core.CodeCSRF},
		{"unknown state", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			b.startLogin("team")
			return loginPost(b, aliceForm(strings.Repeat("ab", 32)))
		}, http.StatusBadRequest, core.CodeFlowExpired},
		{"no state", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			b.startLogin("team")
			return loginPost(b, url.Values{"username": {"alice"}, "password": {gwPassAlice}})
		}, http.StatusBadRequest, core.CodeFlowExpired},
		{"replayed state", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("team")
			form := aliceForm(state)
			if w := b.post("/login/team/demo", form); w.Code != http.StatusSeeOther {
				h.t.Fatalf("first use: %d", w.Code)
			}
			h.sts.Reset()
			return loginPost(b, form)
		}, http.StatusBadRequest, core.CodeFlowExpired},
		{"expired state", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("team")
			h.clock.Advance(flowLifetime + time.Second)
			return loginPost(b, aliceForm(state))
		}, http.StatusBadRequest, core.CodeFlowExpired},
		{"state from another browser, no cookie", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("team")
			other := h.browser()
			return loginPost(other, aliceForm(state))
		}, http.StatusBadRequest, core.CodeFlowExpired},
		{"state from another browser, its own cookie", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("team")
			other := h.browser()
			other.startLogin("team") // a valid binding, for another flow
			return loginPost(other, aliceForm(state))
		}, http.StatusBadRequest, core.CodeFlowExpired},
		{"tampered binding cookie", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("team")
			v := []byte(b.cookies[flowCookieName(state)])
			v[0] ^= 1
			b.cookies[flowCookieName(state)] = string(v)
			return loginPost(b, aliceForm(state))
		}, http.StatusBadRequest, core.CodeFlowExpired},
		{"state of another pool", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("solo")
			return loginPost(b, aliceForm(state))
		}, http.StatusBadRequest, core.CodeFlowExpired},
		{"oversized form", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("team")
			return loginPost(b, url.Values{"state": {state}, "username": {"alice"}, "password": {strings.Repeat("p", gwMaxBody)}})
		}, http.StatusRequestEntityTooLarge, core.CodeTooLarge},
		{"username too long", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("team")
			return loginPost(b, url.Values{"state": {state}, "username": {long}, "password": {"x"}})
		}, http.StatusBadRequest, core.CodeInvalidRequest},
		{"password too long", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("team")
			return loginPost(b, url.Values{"state": {state}, "username": {"alice"}, "password": {long}})
		}, http.StatusBadRequest, core.CodeInvalidRequest},
		{"no rule for bob", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			state := b.startLogin("team")
			return loginPost(b, url.Values{"state": {state}, "username": {"bob"}, "password": {gwPassBob}})
		}, http.StatusForbidden, core.CodeNoMatchingRule},
		{"unknown pool", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			return func() *httptest.ResponseRecorder {
				return b.post("/login/nope/demo", url.Values{"state": {"x"}})
			}
		}, http.StatusNotFound, core.CodeUnknownPool},
		{"provider not in pool", func(h *gwHarness, b *gwBrowser) func() *httptest.ResponseRecorder {
			return func() *httptest.ResponseRecorder {
				return b.post("/login/solo/app", url.Values{"state": {"x"}})
			}
		}, http.StatusNotFound, core.CodeUnknownProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newGWHarness(t)
			attack := tt.prepare(h, h.browser())
			if tt.status == http.StatusNotFound {
				// 404s are logged at DEBUG: scanners are not news.
				w := attack()
				if w.Code != tt.status || !strings.Contains(w.Body.String(), "<code>"+tt.code+"</code>") {
					t.Fatalf("%d %s", w.Code, w.Body)
				}
				return
			}
			w := h.refusal(t, attack, tt.status, tt.code)
			if strings.Contains(w.Body.String(), "ASIAFAKE") {
				t.Error("credentials on a refusal page")
			}
		})
	}
}

// carolPicker signs carol in and returns her browser and the picker's CSRF.
func carolPicker(t testing.TB, h *gwHarness) (*gwBrowser, string) {
	t.Helper()
	b := h.browser()
	calls := len(h.sts.WebIdentityCalls())
	w := b.signInPortal("team", "carol", gwPassCarol)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Choose a role") {
		t.Fatalf("carol: %d\n%s", w.Code, w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("picker is cacheable")
	}
	for _, arn := range []string{gwAdmin, gwReader} {
		if !strings.Contains(w.Body.String(), arn) {
			t.Errorf("picker lacks %s", arn)
		}
	}
	if len(h.sts.WebIdentityCalls()) != calls {
		t.Error("the picker called STS before a role was chosen")
	}
	return b, gwFind(t, gwCSRFPattern, w.Body.String())
}

func TestRolePickerVends(t *testing.T) {
	h := newGWHarness(t)
	b, csrf := carolPicker(t, h)
	w := b.post("/roles", url.Values{"csrf": {csrf}, "role": {gwAdmin}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "ASIAFAKE00000001") {
		t.Fatalf("pick: %d\n%s", w.Code, w.Body)
	}
	if calls := h.sts.WebIdentityCalls(); len(calls) != 1 || calls[0].RoleARN != gwAdmin {
		t.Fatalf("STS calls %+v", calls)
	}
	// Same-origin Origin header is fine.
	b.origin = "http://127.0.0.1:8080"
	if w := b.post("/roles", url.Values{"csrf": {csrf}, "role": {gwReader}}); w.Code != http.StatusOK {
		t.Fatalf("pick again: %d", w.Code)
	}
}

func TestRolePickerRefusals(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder
		status  int
		code    string
	}{
		{"missing csrf", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			return func() *httptest.ResponseRecorder { return b.post("/roles", url.Values{"role": {gwAdmin}}) }
		}, http.StatusForbidden, core.CodeCSRF},
		{"wrong csrf", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			return func() *httptest.ResponseRecorder {
				return b.post("/roles", url.Values{"csrf": {csrf[:len(csrf)-1] + "0"}, "role": {gwAdmin}})
			}
		}, http.StatusForbidden, core.CodeCSRF},
		{"csrf of another session", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			other, _ := carolPicker(h.t, h)
			return func() *httptest.ResponseRecorder {
				return other.post("/roles", url.Values{"csrf": {csrf}, "role": {gwAdmin}})
			}
		}, http.StatusForbidden, core.CodeCSRF},
		{"foreign origin", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			b.origin = "https://evil.example.com"
			return func() *httptest.ResponseRecorder {
				return b.post("/roles", url.Values{"csrf": {csrf}, "role": {gwAdmin}})
			}
		}, http.StatusForbidden, core.CodeCSRF},
		{"no session cookie", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			delete(b.cookies, sessCookie)
			return func() *httptest.ResponseRecorder {
				return b.post("/roles", url.Values{"csrf": {csrf}, "role": {gwAdmin}})
			}
		}, http.StatusUnauthorized, core.CodeSessionExpired},
		{"tampered session cookie", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			v := []byte(b.cookies[sessCookie])
			v[3] ^= 1
			b.cookies[sessCookie] = string(v)
			return func() *httptest.ResponseRecorder {
				return b.post("/roles", url.Values{"csrf": {csrf}, "role": {gwAdmin}})
			}
		}, http.StatusUnauthorized, core.CodeSessionExpired},
		{"oversized session cookie", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			b.cookies[sessCookie] = strings.Repeat("a", 4000)
			return func() *httptest.ResponseRecorder {
				return b.post("/roles", url.Values{"csrf": {csrf}, "role": {gwAdmin}})
			}
		}, http.StatusUnauthorized, core.CodeSessionExpired},
		{"expired session", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			h.clock.Advance(h.cfg.Server.SessionTTL.D() + time.Second)
			return func() *httptest.ResponseRecorder {
				return b.post("/roles", url.Values{"csrf": {csrf}, "role": {gwAdmin}})
			}
		}, http.StatusUnauthorized, core.CodeSessionExpired},
		{"role not granted", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			return func() *httptest.ResponseRecorder {
				return b.post("/roles", url.Values{"csrf": {csrf}, "role": {"arn:aws:iam::123456789012:role/root-ish"}})
			}
		}, http.StatusForbidden, core.CodeRoleNotEntitled},
		{"no role named", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			return func() *httptest.ResponseRecorder { return b.post("/roles", url.Values{"csrf": {csrf}}) }
		}, http.StatusBadRequest, core.CodeRoleRequired},
		{"rules changed since the picker", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			m := h.cfg.Mappings()
			pools := append([]config.Pool(nil), m.Pools...)
			pools[0].Rules = []rules.RuleSpec{pools[0].Rules[1]} // admins rule removed
			h.putMappings(config.Mappings{Providers: m.Providers, Pools: pools}, "admin")
			h.reload()
			return func() *httptest.ResponseRecorder {
				return b.post("/roles", url.Values{"csrf": {csrf}, "role": {gwAdmin}})
			}
		}, http.StatusForbidden, core.CodeRoleNotEntitled},
		{"oversized form", func(h *gwHarness, b *gwBrowser, csrf string) func() *httptest.ResponseRecorder {
			return func() *httptest.ResponseRecorder {
				return b.post("/roles", url.Values{"csrf": {csrf}, "role": {strings.Repeat("r", gwMaxBody)}})
			}
		}, http.StatusRequestEntityTooLarge, core.CodeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newGWHarness(t)
			b, csrf := carolPicker(t, h)
			h.refusal(t, tt.prepare(h, b, csrf), tt.status, tt.code)
		})
	}
}

// The rules are re-evaluated at the post: a role still granted vends.
func TestRolePickerReevaluatesRules(t *testing.T) {
	h := newGWHarness(t)
	b, csrf := carolPicker(t, h)
	m := h.cfg.Mappings()
	pools := append([]config.Pool(nil), m.Pools...)
	pools[0].Rules = []rules.RuleSpec{pools[0].Rules[1]}
	h.putMappings(config.Mappings{Providers: m.Providers, Pools: pools}, "admin")
	h.reload()
	if w := b.post("/roles", url.Values{"csrf": {csrf}, "role": {gwReader}}); w.Code != http.StatusOK {
		t.Fatalf("still-granted role refused: %d", w.Code)
	}
	// With one role left, no role named means that role.
	if w := b.post("/roles", url.Values{"csrf": {csrf}}); w.Code != http.StatusOK {
		t.Fatalf("only role refused: %d", w.Code)
	}
}
