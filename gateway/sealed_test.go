package gateway

import (
	"context"
	"testing"
	"time"
)

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
