package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"fedgate/gateway/store"
)

func (s *suite) identityCreateThenReuse(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	k := store.IdentityKey{PoolID: "eu-west-1:pool", Provider: "okta", Subject: "alice"}
	before := s.now()

	id, created, err := st.GetOrCreateIdentity(ctx, k, "eu-west-1:first")
	if err != nil || !created || id != "eu-west-1:first" {
		t.Fatalf("first call = (%q, %v, %v), want (eu-west-1:first, true, nil)", id, created, err)
	}
	id, created, err = st.GetOrCreateIdentity(ctx, k, "eu-west-1:second")
	if err != nil || created || id != "eu-west-1:first" {
		t.Fatalf("second call = (%q, %v, %v), want (eu-west-1:first, false, nil)", id, created, err)
	}
	rec, err := st.LookupIdentity(ctx, id)
	if err != nil {
		t.Fatalf("LookupIdentity: %v", err)
	}
	if rec.ID != id || rec.PoolID != k.PoolID || rec.Provider != k.Provider || rec.Subject != k.Subject {
		t.Errorf("record = %+v, want id %q and key %+v", rec, id, k)
	}
	if rec.CreatedAt.Before(before.Add(-time.Second)) || rec.LastSeenAt.Before(rec.CreatedAt) {
		t.Errorf("times: created %v last seen %v, opened at %v", rec.CreatedAt, rec.LastSeenAt, before)
	}
	if _, err := st.LookupIdentity(ctx, "eu-west-1:second"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the unused newID must not exist: err = %v", err)
	}
}

func (s *suite) identityKeysAreDistinct(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	base := store.IdentityKey{PoolID: "p1", Provider: "okta", Subject: "alice"}
	keys := []store.IdentityKey{
		base,
		{PoolID: "p2", Provider: base.Provider, Subject: base.Subject},
		{PoolID: base.PoolID, Provider: "azure", Subject: base.Subject},
		{PoolID: base.PoolID, Provider: base.Provider, Subject: "bob"},
		{PoolID: base.PoolID, Provider: base.Provider, Subject: "Alice"}, // subjects are case-sensitive
	}
	seen := map[string]store.IdentityKey{}
	for i, k := range keys {
		newID := fmt.Sprintf("r:%d", i)
		id, created, err := st.GetOrCreateIdentity(ctx, k, newID)
		if err != nil || !created || id != newID {
			t.Fatalf("%+v = (%q, %v, %v), want a new identity %q", k, id, created, err, newID)
		}
		seen[id] = k
	}
	for id, k := range seen {
		rec, err := st.LookupIdentity(ctx, id)
		if err != nil || rec.PoolID != k.PoolID || rec.Provider != k.Provider || rec.Subject != k.Subject {
			t.Errorf("LookupIdentity(%q) = %+v, %v; want key %+v", id, rec, err, k)
		}
	}
}

func (s *suite) identityLookupUnknown(t *testing.T) {
	st := s.fresh(t)
	if rec, err := st.LookupIdentity(context.Background(), "us-east-1:nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupIdentity(unknown) = %+v, %v; want ErrNotFound", rec, err)
	}
}

func (s *suite) identityLastSeenAdvances(t *testing.T) {
	s.needClock(t)
	st, ctx := s.fresh(t), context.Background()
	k := store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "alice"}
	createdAt := s.clock.Now()
	if _, _, err := st.GetOrCreateIdentity(ctx, k, "r:1"); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Hour)
	seenAt := s.clock.Now()
	if _, _, err := st.GetOrCreateIdentity(ctx, k, "r:2"); err != nil {
		t.Fatal(err)
	}
	rec, err := st.LookupIdentity(ctx, "r:1")
	if err != nil {
		t.Fatal(err)
	}
	if !sameInstant(rec.CreatedAt, createdAt) || !sameInstant(rec.LastSeenAt, seenAt) {
		t.Errorf("created %v last seen %v; want %v and %v", rec.CreatedAt, rec.LastSeenAt, createdAt, seenAt)
	}
}

func (s *suite) identityIDTakenByAnotherKey(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	if _, _, err := st.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "alice"}, "r:1"); err != nil {
		t.Fatal(err)
	}
	// A colliding newID must never silently merge two people.
	_, _, err := st.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "bob"}, "r:1")
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("reusing an id for another key: err = %v, want ErrConflict", err)
	}
	rec, err := st.LookupIdentity(ctx, "r:1")
	if err != nil || rec.Subject != "alice" {
		t.Errorf("r:1 = %+v, %v; want alice's", rec, err)
	}
}

func (s *suite) identityInvalidArguments(t *testing.T) {
	st := s.fresh(t)
	tests := []struct {
		name  string
		key   store.IdentityKey
		newID string
	}{
		{"no pool", store.IdentityKey{Provider: "okta", Subject: "a"}, "r:1"},
		{"no provider", store.IdentityKey{PoolID: "p", Subject: "a"}, "r:1"},
		{"no subject", store.IdentityKey{PoolID: "p", Provider: "okta"}, "r:1"},
		{"no id", store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "a"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, wantErr(store.ErrInvalid, func() error {
			_, _, err := st.GetOrCreateIdentity(context.Background(), tt.key, tt.newID)
			return err
		}))
	}
}

func (s *suite) identityConcurrentCreate(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	k := store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "alice"}
	type result struct {
		id      string
		created bool
		err     error
	}
	const n = 20
	results := Parallel(n, func(i int) result {
		id, created, err := st.GetOrCreateIdentity(ctx, k, fmt.Sprintf("r:%d", i))
		return result{id, created, err}
	})
	var winner string
	creators := 0
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("GetOrCreateIdentity: %v", r.err)
		}
		if r.created {
			creators++
			winner = r.id
		}
	}
	if creators != 1 {
		t.Fatalf("%d callers saw created=true, want exactly 1", creators)
	}
	for i, r := range results {
		if r.id != winner {
			t.Errorf("caller %d got %q, want the winner's %q", i, r.id, winner)
		}
	}
}

func (s *suite) identityGenerationMoves(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	g0, err := st.IdentityGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g1, err := st.BumpIdentityGeneration(ctx)
	if err != nil || g1 <= g0 {
		t.Fatalf("BumpIdentityGeneration = %d, %v; want above %d", g1, err, g0)
	}
	if got, err := st.IdentityGeneration(ctx); err != nil || got != g1 {
		t.Errorf("IdentityGeneration = %d, %v; want %d", got, err, g1)
	}
	gens := Parallel(8, func(int) int64 {
		g, err := st.BumpIdentityGeneration(ctx)
		if err != nil {
			t.Error(err)
		}
		return g
	})
	seen := map[int64]bool{}
	for _, g := range gens {
		if seen[g] || g <= g1 {
			t.Errorf("concurrent bumps gave %v; want distinct values above %d", gens, g1)
			break
		}
		seen[g] = true
	}
}

func (s *suite) identityListAndDelete(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	for i, id := range []string{"r:3", "r:1", "r:2", "r:4"} {
		pool := "p"
		if id == "r:4" {
			pool = "other"
		}
		if _, _, err := st.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: pool, Provider: "okta", Subject: fmt.Sprint("u", i)}, id); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(rs []store.IdentityRecord) (out []string) {
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	page, err := st.ListIdentities(ctx, "p", "", 2)
	if err != nil || fmt.Sprint(ids(page)) != "[r:1 r:2]" || page[0].Subject != "u1" || page[0].CreatedAt.IsZero() {
		t.Fatalf("first page = %+v, %v; want r:1 r:2 with their records", page, err)
	}
	page, err = st.ListIdentities(ctx, "p", "r:2", 2)
	if err != nil || fmt.Sprint(ids(page)) != "[r:3]" {
		t.Fatalf("second page = %v, %v; want [r:3]", ids(page), err)
	}
	if _, err := st.ListIdentities(ctx, "p", "", 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("limit 0: err = %v, want ErrInvalid", err)
	}
	if page, err := st.ListIdentities(ctx, "p\x00", "", 5); err != nil || len(page) != 0 {
		t.Errorf("a NUL pool id: %v, %v; want nothing", page, err)
	}
	if err := st.DeleteIdentity(ctx, "r:2"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteIdentity(ctx, "r:2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: err = %v, want ErrNotFound", err)
	}
	if _, err := st.LookupIdentity(ctx, "r:2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted identity is still found: %v", err)
	}
	// The login of a deleted identity makes a new identity next time.
	id, created, err := st.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "u2"}, "r:5")
	if err != nil || !created || id != "r:5" {
		t.Errorf("signing in again after delete = %q, %v, %v; want a new identity r:5", id, created, err)
	}
}
