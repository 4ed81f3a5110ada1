package gateway

import (
	"net/http"
	"net/url"
	"testing"
)

// A person who opens two sign-ins in one browser (two tabs, two pools, or
// a user and an admin sign-in) can finish either: each flow has its own
// binding cookie.
func TestTwoSignInsInOneBrowser(t *testing.T) {
	h := newGWHarness(t)
	b := h.browser()
	first := b.startLogin("team")
	second := b.startLogin("team")
	for _, state := range []string{first, second} {
		w := b.post("/login/team/demo", url.Values{"state": {state}, "username": {"alice"}, "password": {gwPassAlice}})
		if w.Code != http.StatusOK {
			t.Fatalf("finishing one of two sign-ins: HTTP %d\n%s", w.Code, w.Body.String())
		}
	}
}

// Someone who only holds a sign-in's state (a leaked callback URL) cannot
// spoil it: the refusal in their browser leaves the state usable in the
// browser that started the sign-in.
func TestForeignBrowserCannotSpoilASignIn(t *testing.T) {
	h := newGWHarness(t)
	victim := h.browser()
	state := victim.startLogin("team")
	attacker := h.browser()
	if w := attacker.post("/login/team/demo", url.Values{"state": {state}, "username": {"alice"}, "password": {gwPassAlice}}); w.Code != http.StatusBadRequest {
		t.Fatalf("state posted from another browser: HTTP %d", w.Code)
	}
	if w := victim.post("/login/team/demo", url.Values{"state": {state}, "username": {"alice"}, "password": {gwPassAlice}}); w.Code != http.StatusOK {
		t.Fatalf("the victim's own sign-in after the attempt: HTTP %d\n%s", w.Code, w.Body.String())
	}
}
