package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"fedgate/gateway/store"
)

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
