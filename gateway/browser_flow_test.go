package gateway

import (
	"context"
	"net/http"
	"testing"
	"time"
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
		w := b.post("/login/team/demo", aliceForm(state))
		if w.Code != http.StatusSeeOther {
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
	if w := attacker.post("/login/team/demo", aliceForm(state)); w.Code != http.StatusBadRequest {
		t.Fatalf("state posted from another browser: HTTP %d", w.Code)
	}
	if w := victim.post("/login/team/demo", aliceForm(state)); w.Code != http.StatusSeeOther {
		t.Fatalf("the victim's own sign-in after the attempt: HTTP %d\n%s", w.Code, w.Body.String())
	}
}

// Someone who can write the database but lacks the master key cannot move
// a sealed entry (an owner's admin session, a browser session) under
// another key: the entry is sealed to its kind and key.
func TestSealedEntryCannotBeMovedToAnotherKey(t *testing.T) {
	h := newGWHarness(t)
	ctx := context.Background()
	type session struct{ Role string }
	if err := h.srv.core.PutSealed(ctx, kindSession, "owner-session", session{Role: "owner"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	raw, err := h.store.GetEphemeral(ctx, kindSession, "owner-session", h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.PutEphemeral(ctx, kindSession, "viewer-session", raw, h.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var got session
	if err := h.srv.core.GetSealed(ctx, kindSession, "viewer-session", &got); err == nil {
		t.Fatalf("an entry moved to another key opened as %+v", got)
	}
	if err := h.srv.core.GetSealed(ctx, kindSession, "owner-session", &got); err != nil || got.Role != "owner" {
		t.Fatalf("the entry under its own key: %+v, %v", got, err)
	}
}
