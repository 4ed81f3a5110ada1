package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"fedgate/gateway/store"
)

func (s *suite) lifecyclePing(t *testing.T) {
	if err := s.fresh(t).Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func (s *suite) lifecycleCancelledContext(t *testing.T) {
	st, now := s.fresh(t), s.now()
	// Seed one entry of each kind so a backend cannot pass by finding nothing.
	seed := context.Background()
	k := store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "alice"}
	if _, _, err := st.GetOrCreateIdentity(seed, k, "r:1"); err != nil {
		t.Fatal(err)
	}
	must(t, st.PutEphemeral(seed, "flow", "k", []byte("v"), now.Add(time.Hour)))
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Ping", st.Ping},
		{"GetOrCreateIdentity", func(ctx context.Context) error { _, _, err := st.GetOrCreateIdentity(ctx, k, "r:2"); return err }},
		{"LookupIdentity", func(ctx context.Context) error { _, err := st.LookupIdentity(ctx, "r:1"); return err }},
		{"LatestConfig", func(ctx context.Context) error { _, err := st.LatestConfig(ctx); return err }},
		{"PutConfig", func(ctx context.Context) error {
			_, err := st.PutConfig(ctx, store.ConfigVersion{Doc: []byte(`{}`)}, 0)
			return err
		}},
		{"PutEphemeral", func(ctx context.Context) error {
			return st.PutEphemeral(ctx, "flow", "other", []byte("v"), now.Add(time.Hour))
		}},
		{"GetEphemeral", func(ctx context.Context) error { _, err := st.GetEphemeral(ctx, "flow", "k", now); return err }},
		{"TakeEphemeral", func(ctx context.Context) error { _, err := st.TakeEphemeral(ctx, "flow", "k", now); return err }},
		{"DeleteEphemeral", func(ctx context.Context) error { return st.DeleteEphemeral(ctx, "flow", "k") }},
		{"PurgeExpired", func(ctx context.Context) error { _, err := st.PurgeExpired(ctx, now.Add(2*time.Hour)); return err }},
		{"ListSigningKeys", func(ctx context.Context) error { _, err := st.ListSigningKeys(ctx); return err }},
		{"AddSigningKey", func(ctx context.Context) error {
			return st.AddSigningKey(ctx, store.StoredKey{ID: "k", Algorithm: "RS256", Sealed: []byte("x"), CreatedAt: now})
		}},
		{"RetireSigningKeys", func(ctx context.Context) error { return st.RetireSigningKeys(ctx, "", now) }},
		{"DeleteSigningKeysRetiredBefore", func(ctx context.Context) error { return st.DeleteSigningKeysRetiredBefore(ctx, now) }},
	}
	for _, c := range calls {
		t.Run(c.name, wantErr(context.Canceled, func() error { return c.call(cancelled()) }))
	}
	// Nothing a cancelled call attempted may have happened.
	if _, err := st.GetEphemeral(seed, "flow", "k", now); err != nil {
		t.Errorf("entry touched by cancelled calls: %v", err)
	}
	if _, err := st.LatestConfig(seed); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cancelled PutConfig left a version: %v", err)
	}
}

func (s *suite) lifecycleCloseTwice(t *testing.T) {
	st := s.open(t)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	if err := st.Ping(context.Background()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

func (s *suite) lifecycleReopen(t *testing.T) {
	if s.reopen == nil {
		t.Skip("backend did not pass WithReopen")
	}
	open := s.reopen(t)
	ctx, now := context.Background(), s.now()
	k := store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "alice"}

	first := open()
	if _, _, err := first.GetOrCreateIdentity(ctx, k, "r:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := first.PutConfig(ctx, store.ConfigVersion{Doc: []byte(`{"v":1}`), Author: "a"}, 0); err != nil {
		t.Fatal(err)
	}
	must(t, first.PutEphemeral(ctx, "session", "sid", []byte("s"), now.Add(time.Hour)))
	must(t, first.AddSigningKey(ctx, store.StoredKey{ID: "k1", Algorithm: "ES256", Sealed: []byte("x"), CreatedAt: now}))
	must(t, first.Close())

	second := open()
	defer func() { _ = second.Close() }()
	if id, created, err := second.GetOrCreateIdentity(ctx, k, "r:2"); err != nil || created || id != "r:1" {
		t.Errorf("identity after reopen = (%q, %v, %v), want (r:1, false, nil)", id, created, err)
	}
	if v, err := second.LatestConfig(ctx); err != nil || v.Version != 1 || string(v.Doc) != `{"v":1}` || v.Author != "a" {
		t.Errorf("config after reopen = %+v, %v", v, err)
	}
	if _, err := second.PutConfig(ctx, store.ConfigVersion{Doc: []byte(`{}`)}, 0); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutConfig(ifLatest=0) after reopen err = %v, want ErrConflict", err)
	}
	if got, err := second.GetEphemeral(ctx, "session", "sid", now); err != nil || string(got) != "s" {
		t.Errorf("ephemeral after reopen = %q, %v", got, err)
	}
	if keys, err := second.ListSigningKeys(ctx); err != nil || len(keys) != 1 || keys[0].ID != "k1" {
		t.Errorf("keys after reopen = %+v, %v", keys, err)
	}
}
