package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"fedgate/gateway/store"
)

// raceRounds is how many times each race is run: each round is one pair
// of requests released at once, on two stores (two replicas) when the
// backend can reopen its data.
const raceRounds = 40

// replicas are two stores on the same data when the backend can reopen
// it, else the same store twice.
func (s *suite) replicas(t *testing.T) (store.Store, store.Store) {
	t.Helper()
	if s.reopen == nil {
		st := s.fresh(t)
		return st, st
	}
	open := s.reopen(t)
	a, b := open(), open()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a, b
}

// owners are the identities of pool that hold login k.
func owners(ctx context.Context, t *testing.T, st store.Store, pool string, k store.IdentityKey) []string {
	t.Helper()
	ids, err := st.ListIdentities(ctx, pool, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range ids {
		logins, err := st.LoginsOf(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(logins, k) {
			out = append(out, r.ID)
		}
	}
	return out
}

// A new login signs in (GetOrCreateIdentity) while, on another replica,
// a request carrying it and a known login links it to that login's
// identity (LinkLogin). One wins: the login ends on exactly one identity,
// the sign-in gets that identity or made it (then the link is refused
// as a conflict), and no identity is left owning the login besides.
func (s *suite) identityLinkRacesCreate(t *testing.T) {
	a, b := s.replicas(t)
	ctx := context.Background()
	linked, created := 0, 0
	for round := range raceRounds {
		pool := fmt.Sprintf("p%d", round)
		known := store.IdentityKey{PoolID: pool, Provider: "okta", Subject: "alice"}
		fresh := store.IdentityKey{PoolID: pool, Provider: "google", Subject: "alice@example.com"}
		x, _, err := a.GetOrCreateIdentity(ctx, known, pool+":x")
		must(t, err)
		signIn, linkErr := signInRacing(ctx, a, fresh, pool+":y", func() error { return b.LinkLogin(ctx, x, fresh) })
		if signIn.err != nil {
			t.Fatalf("round %d: GetOrCreateIdentity: %v", round, signIn.err)
		}
		if linkErr != nil && !errors.Is(linkErr, store.ErrConflict) {
			t.Fatalf("round %d: LinkLogin: %v, want success or ErrConflict", round, linkErr)
		}
		got := owners(ctx, t, a, pool, fresh)
		if len(got) != 1 {
			t.Fatalf("round %d: the login is held by %q, want exactly one identity", round, got)
		}
		if owner, err := b.IdentityOfLogin(ctx, fresh); err != nil || owner != got[0] {
			t.Errorf("round %d: IdentityOfLogin = %q, %v; want %q", round, owner, err, got[0])
		}
		switch {
		case linkErr == nil:
			linked++
			if signIn.id != x || signIn.created || got[0] != x {
				t.Errorf("round %d: linked to %s, but the sign-in got (%s, created %v) and the owner is %s", round, x, signIn.id, signIn.created, got[0])
			}
		default:
			created++
			if !signIn.created || signIn.id != got[0] || got[0] == x {
				t.Errorf("round %d: the link lost, but the sign-in got (%s, created %v) and the owner is %s", round, signIn.id, signIn.created, got[0])
			}
		}
		want := 1 // the link won: no identity was made for the login
		if linkErr != nil {
			want = 2
		}
		if ids, err := a.ListIdentities(ctx, pool, "", 10); err != nil || len(ids) != want {
			t.Errorf("round %d: %d identities in the pool (%v), want %d", round, len(ids), err, want)
		}
	}
	t.Logf("%d rounds: the link won %d, the sign-in %d", raceRounds, linked, created)
}

// An identity whose first login is being merged away into another while
// that login signs in again on another replica: the sign-in gets the
// identity the login belongs to before or after the merge, never a new
// one, and the login ends on the surviving identity only. Sign-ins of
// the last minute are answered by a read alone, so the clock moves past
// that first where the backend lets the suite drive it.
func (s *suite) identityMergeRacesSignIn(t *testing.T) {
	a, b := s.replicas(t)
	ctx := context.Background()
	for round := range raceRounds {
		pool := fmt.Sprintf("m%d", round)
		into := store.IdentityKey{PoolID: pool, Provider: "okta", Subject: "alice"}
		from := store.IdentityKey{PoolID: pool, Provider: "google", Subject: "alice@example.com"}
		x, _, err := a.GetOrCreateIdentity(ctx, into, pool+":x")
		must(t, err)
		y, _, err := a.GetOrCreateIdentity(ctx, from, pool+":y")
		must(t, err)
		if s.clock != nil {
			// Past the read-only fast path of a recent sign-in, so the
			// sign-in writes as the merge does.
			s.clock.Advance(2 * time.Minute)
		}
		signIn, mergeErr := signInRacing(ctx, a, from, pool+":z", func() error { return b.MergeIdentity(ctx, y, x) })
		if mergeErr != nil {
			t.Fatalf("round %d: MergeIdentity: %v", round, mergeErr)
		}
		if signIn.err != nil || signIn.created || (signIn.id != x && signIn.id != y) {
			t.Errorf("round %d: the sign-in got (%q, created %v, %v), want %s or %s and nothing created", round, signIn.id, signIn.created, signIn.err, y, x)
		}
		if got := owners(ctx, t, a, pool, from); len(got) != 1 || got[0] != x {
			t.Fatalf("round %d: the login is held by %q, want %s only", round, got, x)
		}
	}
}

// signInRaceResult is what GetOrCreateIdentity answered in a race.
type signInRaceResult struct {
	id      string
	created bool
	err     error
}

// signInRacing signs k in on st (creating it as newID if it has no
// identity) while other runs at the same moment, and returns both results.
func signInRacing(ctx context.Context, st store.Store, k store.IdentityKey, newID string, other func() error) (signInRaceResult, error) {
	res := Parallel(2, func(i int) signInRaceResult {
		if i == 0 {
			id, created, err := st.GetOrCreateIdentity(ctx, k, newID)
			return signInRaceResult{id, created, err}
		}
		return signInRaceResult{err: other()}
	})
	return res[0], res[1].err
}
