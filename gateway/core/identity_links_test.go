package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"fedgate/gateway/config"
	"fedgate/gateway/store"
	"fedgate/gateway/store/storetest"
	"fedgate/gateway/testkit"
	"fedgate/idp"
)

// Two replicas on one store: on the first, a new login signs in alone
// (IdentityID); on the second, a request carrying it and a known login
// links it (LinkLogins). A link that loses is refused as a conflict, and
// linking again (what the API does) merges the sign-in's identity in.
// Afterwards both replicas, once they have polled the identity
// generation, find the login's one identity; no other identity owns it.
func TestLinkLoginsRacesSignInAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fedgate.db")
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	replica := func(seed byte) *Core {
		st, err := store.OpenSQLite(ctx, path, func() time.Time { return now })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return &Core{store: st, now: func() time.Time { return now }, rand: testkit.NewRand(seed), log: slog.New(slog.DiscardHandler), identities: newIdentityCache()}
	}
	a, b := replica(1), replica(2)
	pool := &Pool{Cfg: config.Pool{ID: "us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11"}}
	login := func(provider, sub string) *Principal {
		return &Principal{Pool: pool, Provider: &Provider{Cfg: config.Provider{ID: provider}}, Ident: &idp.Identity{Subject: sub}}
	}
	const rounds = 60
	lost := 0
	for round := range rounds {
		known, fresh := login("corp", fmt.Sprint("user-", round)), login("partner", fmt.Sprint("user-", round))
		x, err := a.IdentityID(ctx, known)
		if err != nil {
			t.Fatal(err)
		}
		type result struct {
			id  string
			err error
		}
		res := storetest.Parallel(2, func(i int) result {
			if i == 0 {
				id, err := a.IdentityID(ctx, fresh)
				return result{id, err}
			}
			_, err := b.LinkLogins(ctx, x, []*Principal{known, fresh}, "test")
			return result{err: err}
		})
		signIn, link := res[0], res[1]
		if signIn.err != nil {
			t.Fatalf("round %d: IdentityID: %v", round, signIn.err)
		}
		if link.err != nil {
			if !errors.Is(link.err, store.ErrConflict) {
				t.Fatalf("round %d: LinkLogins: %v, want success or ErrConflict", round, link.err)
			}
			lost++
			if _, err := b.LinkLogins(ctx, x, []*Principal{known, fresh}, "test"); err != nil {
				t.Fatalf("round %d: linking again after the conflict: %v", round, err)
			}
		}
		for name, c := range map[string]*Core{"a": a, "b": b} {
			if err := c.syncIdentityGeneration(ctx); err != nil {
				t.Fatal(err)
			}
			if got, err := c.IdentityID(ctx, fresh); err != nil || got != x {
				t.Errorf("round %d: replica %s finds the login on %s (%v), want %s", round, name, got, err, x)
			}
		}
		if signIn.id != x {
			if _, err := a.LookupIdentity(ctx, signIn.id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("round %d: the sign-in's own identity %s is left (%v)", round, signIn.id, err)
			}
		}
		if logins, err := b.LoginsOf(ctx, x); err != nil || len(logins) != 2 {
			t.Errorf("round %d: %s holds %v (%v), want both logins", round, x, logins, err)
		}
	}
	t.Logf("the link lost the race %d times of %d", lost, rounds)
}
