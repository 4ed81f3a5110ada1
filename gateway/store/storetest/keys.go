package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"fedgate/gateway/store"
)

func byID(keys []store.StoredKey) map[string]store.StoredKey {
	m := make(map[string]store.StoredKey, len(keys))
	for _, k := range keys {
		m[k.ID] = k
	}
	return m
}

func mustList(t *testing.T, ks store.KeyStore) []store.StoredKey {
	t.Helper()
	keys, err := ks.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// mustAddKeys adds keys to ks in the order given.
func mustAddKeys(t *testing.T, ks store.KeyStore, keys []store.StoredKey) {
	t.Helper()
	for _, k := range keys {
		if err := ks.AddSigningKey(context.Background(), k); err != nil {
			t.Fatalf("AddSigningKey(%s): %v", k.ID, err)
		}
	}
}

func (s *suite) keysEmptyList(t *testing.T) {
	st := s.fresh(t)
	if keys, err := st.ListSigningKeys(context.Background()); err != nil || len(keys) != 0 {
		t.Errorf("ListSigningKeys on an empty store = %v, %v; want none", keys, err)
	}
}

func (s *suite) keysAddList(t *testing.T) {
	st, now := s.fresh(t), s.now()
	want := []store.StoredKey{
		{ID: "k-old", Algorithm: "RS256", Sealed: []byte("sealed-1"), CreatedAt: now.Add(-2 * time.Hour), RetiredAt: now.Add(-time.Hour)},
		{ID: "k-mid", Algorithm: "ES256", Sealed: []byte("sealed-2"), CreatedAt: now.Add(-time.Hour)},
		{ID: "k-new", Algorithm: "RS256", Sealed: []byte{0, 0xff}, CreatedAt: now},
	}
	mustAddKeys(t, st, []store.StoredKey{want[2], want[0], want[1]}) // insertion order differs from age order
	got := mustList(t, st)
	if len(got) != len(want) {
		t.Fatalf("ListSigningKeys returned %d keys, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Algorithm != w.Algorithm || !bytes.Equal(g.Sealed, w.Sealed) ||
			!sameInstant(g.CreatedAt, w.CreatedAt) || g.RetiredAt.IsZero() != w.RetiredAt.IsZero() ||
			(!w.RetiredAt.IsZero() && !sameInstant(g.RetiredAt, w.RetiredAt)) {
			t.Errorf("key %d = %+v, want %+v (oldest first)", i, g, w)
		}
	}
}

func (s *suite) keysDuplicateID(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	k := store.StoredKey{ID: "k1", Algorithm: "RS256", Sealed: []byte("a"), CreatedAt: s.now()}
	must(t, st.AddSigningKey(ctx, k))
	k.Sealed = []byte("b")
	if err := st.AddSigningKey(ctx, k); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate AddSigningKey err = %v, want ErrConflict", err)
	}
	keys, err := st.ListSigningKeys(ctx)
	if err != nil || len(keys) != 1 || string(keys[0].Sealed) != "a" {
		t.Errorf("after duplicate: %+v, %v; want the first key only", keys, err)
	}
}

func (s *suite) keysCreatedAtFromClock(t *testing.T) {
	s.needClock(t)
	st, ctx := s.fresh(t), context.Background()
	want := s.clock.Now()
	must(t, st.AddSigningKey(ctx, store.StoredKey{ID: "k1", Algorithm: "RS256", Sealed: []byte("a")}))
	keys, err := st.ListSigningKeys(ctx)
	if err != nil || len(keys) != 1 || !sameInstant(keys[0].CreatedAt, want) {
		t.Errorf("keys = %+v, %v; want CreatedAt stamped %v", keys, err, want)
	}
}

func (s *suite) keysRetire(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	earlier := now.Add(-time.Hour)
	mustAddKeys(t, st, []store.StoredKey{
		{ID: "old", Algorithm: "RS256", Sealed: []byte("1"), CreatedAt: now.Add(-3 * time.Hour), RetiredAt: earlier},
		{ID: "a", Algorithm: "RS256", Sealed: []byte("2"), CreatedAt: now.Add(-2 * time.Hour)},
		{ID: "b", Algorithm: "RS256", Sealed: []byte("3"), CreatedAt: now.Add(-time.Hour)},
		{ID: "current", Algorithm: "RS256", Sealed: []byte("4"), CreatedAt: now},
	})
	if err := st.RetireSigningKeys(ctx, "current", now); err != nil {
		t.Fatalf("RetireSigningKeys: %v", err)
	}
	got := byID(mustList(t, st))
	tests := []struct {
		id      string
		retired time.Time // zero = still active
	}{
		{"old", earlier}, // an earlier retirement is kept, not moved
		{"a", now},
		{"b", now},
		{"current", time.Time{}},
	}
	for _, tt := range tests {
		k, ok := got[tt.id]
		switch {
		case !ok:
			t.Errorf("key %s vanished", tt.id)
		case tt.retired.IsZero() && !k.RetiredAt.IsZero():
			t.Errorf("key %s retired at %v, want active", tt.id, k.RetiredAt)
		case !tt.retired.IsZero() && !sameInstant(k.RetiredAt, tt.retired):
			t.Errorf("key %s retired at %v, want %v", tt.id, k.RetiredAt, tt.retired)
		}
	}
}

func (s *suite) keysDeleteRetiredBefore(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	cutoff := now.Add(-time.Hour)
	mustAddKeys(t, st, []store.StoredKey{
		{ID: "long-gone", Algorithm: "RS256", Sealed: []byte("1"), CreatedAt: now.Add(-5 * time.Hour), RetiredAt: cutoff.Add(-time.Minute)},
		{ID: "at-cutoff", Algorithm: "RS256", Sealed: []byte("2"), CreatedAt: now.Add(-4 * time.Hour), RetiredAt: cutoff},
		{ID: "recent", Algorithm: "RS256", Sealed: []byte("3"), CreatedAt: now.Add(-3 * time.Hour), RetiredAt: now},
		{ID: "active-but-old", Algorithm: "RS256", Sealed: []byte("4"), CreatedAt: now.Add(-6 * time.Hour)},
	})
	if err := st.DeleteSigningKeysRetiredBefore(ctx, cutoff); err != nil {
		t.Fatalf("DeleteSigningKeysRetiredBefore: %v", err)
	}
	got := byID(mustList(t, st))
	for id, kept := range map[string]bool{"long-gone": false, "at-cutoff": true, "recent": true, "active-but-old": true} {
		if _, ok := got[id]; ok != kept {
			t.Errorf("key %s present = %v, want %v", id, ok, kept)
		}
	}
}

func (s *suite) keysInvalidArguments(t *testing.T) {
	st, now := s.fresh(t), s.now()
	tests := []struct {
		name string
		key  store.StoredKey
	}{
		{"no id", store.StoredKey{Algorithm: "RS256", Sealed: []byte("x"), CreatedAt: now}},
		{"no algorithm", store.StoredKey{ID: "k", Sealed: []byte("x"), CreatedAt: now}},
		{"no material", store.StoredKey{ID: "k", Algorithm: "RS256", CreatedAt: now}},
	}
	for _, tt := range tests {
		t.Run(tt.name, wantErr(store.ErrInvalid, func() error { return st.AddSigningKey(context.Background(), tt.key) }))
	}
}

// The SAML broker's key ring keeps the KeyStore contract and is a ring
// apart from the issuer's.

func (s *suite) samlKeysContract(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	ring := st.SAMLSigningKeys()
	if keys, err := ring.ListSigningKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("empty ring = %v, %v", keys, err)
	}
	future := now.Add(time.Hour) // an announced key signs from a later CreatedAt
	mustAddKeys(t, ring, []store.StoredKey{
		{ID: "next", Algorithm: "SAML-RSA-SHA256", Sealed: []byte("3"), CreatedAt: future},
		{ID: "gone", Algorithm: "SAML-RSA-SHA256", Sealed: []byte("1"), CreatedAt: now.Add(-3 * time.Hour), RetiredAt: now.Add(-2 * time.Hour)},
		{ID: "cur", Algorithm: "SAML-RSA-SHA256", Sealed: []byte("2"), CreatedAt: now.Add(-time.Hour)},
	})
	if err := ring.AddSigningKey(ctx, store.StoredKey{ID: "cur", Algorithm: "x", Sealed: []byte("x"), CreatedAt: now}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate id: err = %v, want ErrConflict", err)
	}
	if err := ring.AddSigningKey(ctx, store.StoredKey{ID: "k", Algorithm: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no material: err = %v, want ErrInvalid", err)
	}
	keys, err := ring.ListSigningKeys(ctx)
	if err != nil || len(keys) != 3 || keys[0].ID != "gone" || keys[1].ID != "cur" || keys[2].ID != "next" || !sameInstant(keys[2].CreatedAt, future) {
		t.Fatalf("list = %+v, %v; want gone, cur, next (oldest first, future CreatedAt kept)", keys, err)
	}
	must(t, ring.RetireSigningKeys(ctx, "next", future))
	got := byID(mustList(t, ring))
	if !sameInstant(got["cur"].RetiredAt, future) || !sameInstant(got["gone"].RetiredAt, now.Add(-2*time.Hour)) || !got["next"].RetiredAt.IsZero() {
		t.Errorf("after retire: %+v", got)
	}
	must(t, ring.DeleteSigningKeysRetiredBefore(ctx, now.Add(-time.Hour)))
	got = byID(mustList(t, ring))
	if _, ok := got["gone"]; ok || len(got) != 2 {
		t.Errorf("after delete: %+v; want cur and next", got)
	}
}

func (s *suite) samlKeysApart(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	ring := st.SAMLSigningKeys()
	must(t, st.AddSigningKey(ctx, store.StoredKey{ID: "jwt", Algorithm: "ES256", Sealed: []byte("j"), CreatedAt: now}))
	must(t, ring.AddSigningKey(ctx, store.StoredKey{ID: "saml", Algorithm: "SAML-RSA-SHA256", Sealed: []byte("s"), CreatedAt: now}))
	// The same id may exist in both rings.
	if err := ring.AddSigningKey(ctx, store.StoredKey{ID: "jwt", Algorithm: "SAML-RSA-SHA256", Sealed: []byte("s2"), CreatedAt: now}); err != nil {
		t.Fatalf("an id of the issuer ring is refused in the SAML ring: %v", err)
	}
	must(t, ring.DeleteSigningKeysRetiredBefore(ctx, now))
	// Rotating one ring retires nothing in the other.
	must(t, st.RetireSigningKeys(ctx, "none", now))
	for _, k := range mustList(t, ring) {
		if !k.RetiredAt.IsZero() {
			t.Errorf("issuer rotation retired SAML key %s", k.ID)
		}
	}
	must(t, ring.RetireSigningKeys(ctx, "saml", now))
	issuerKeys, err := st.ListSigningKeys(ctx)
	if err != nil || len(issuerKeys) != 1 || issuerKeys[0].ID != "jwt" || string(issuerKeys[0].Sealed) != "j" {
		t.Fatalf("issuer ring = %+v, %v; want only its own key", issuerKeys, err)
	}
	must(t, ring.DeleteSigningKeysRetiredBefore(ctx, now.Add(time.Hour)))
	if keys, _ := st.ListSigningKeys(ctx); len(keys) != 1 {
		t.Error("deleting retired SAML keys deleted an issuer key")
	}
	if got := byID(mustList(t, ring)); len(got) != 1 || got["saml"].ID != "saml" {
		t.Errorf("SAML ring after delete = %+v; want the active key only", got)
	}
}
