package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"fedgate/gateway/store"
)

func (s *suite) ephemeralPutGet(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	tests := []struct {
		name, kind, key string
		data            []byte
	}{
		{"json", "flow", "state-1", []byte(`{"nonce":"n"}`)},
		{"binary", "session", "sid-1", []byte{0, 1, 2, 255}},
		{"empty", "replay", "assertion-1", []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := st.PutEphemeral(ctx, tt.kind, tt.key, tt.data, now.Add(time.Hour)); err != nil {
				t.Fatalf("PutEphemeral: %v", err)
			}
			got, err := st.GetEphemeral(ctx, tt.kind, tt.key, now)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Errorf("GetEphemeral = %q, %v; want %q", got, err, tt.data)
			}
			// Get does not consume.
			if _, err := st.GetEphemeral(ctx, tt.kind, tt.key, now); err != nil {
				t.Errorf("second GetEphemeral: %v", err)
			}
		})
	}
	if _, err := st.GetEphemeral(ctx, "flow", "never-put", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEphemeral(absent) err = %v, want ErrNotFound", err)
	}
}

func (s *suite) ephemeralExpiryBoundary(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	expires := now.Add(10 * time.Minute)
	must(t, st.PutEphemeral(ctx, "flow", "k", []byte("v"), expires))
	for _, tt := range aroundExpiry("well before", now, expires) {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.GetEphemeral(ctx, "flow", "k", tt.at)
			if tt.alive && err != nil {
				t.Errorf("GetEphemeral at %v: %v, want the entry", tt.at, err)
			}
			if !tt.alive && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetEphemeral at %v: err = %v, want ErrNotFound", tt.at, err)
			}
		})
	}
}

func (s *suite) ephemeralPutOverLiveConflicts(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	must(t, st.PutEphemeral(ctx, "flow", "k", []byte("first"), now.Add(time.Hour)))
	if err := st.PutEphemeral(ctx, "flow", "k", []byte("second"), now.Add(2*time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutEphemeral over a live entry: err = %v, want ErrConflict", err)
	}
	if got, err := st.GetEphemeral(ctx, "flow", "k", now); err != nil || string(got) != "first" {
		t.Errorf("GetEphemeral = %q, %v; want the first value kept", got, err)
	}
}

func (s *suite) ephemeralPutOverExpiredReplaces(t *testing.T) {
	s.needClock(t)
	st, ctx := s.fresh(t), context.Background()
	must(t, st.PutEphemeral(ctx, "flow", "k", []byte("old"), s.clock.Now().Add(time.Minute)))
	s.clock.Advance(time.Minute) // the old entry expires exactly now
	now := s.clock.Now()
	if err := st.PutEphemeral(ctx, "flow", "k", []byte("new"), now.Add(time.Minute)); err != nil {
		t.Fatalf("PutEphemeral over an expired entry: %v", err)
	}
	if got, err := st.GetEphemeral(ctx, "flow", "k", now); err != nil || string(got) != "new" {
		t.Errorf("GetEphemeral = %q, %v; want new", got, err)
	}
}

func (s *suite) ephemeralPutAlreadyExpired(t *testing.T) {
	s.needClock(t)
	st, now := s.fresh(t), s.clock.Now()
	for _, expires := range []time.Time{now, now.Add(-time.Second)} {
		if err := st.PutEphemeral(context.Background(), "flow", "k", []byte("v"), expires); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutEphemeral expiring %v at %v: err = %v, want ErrInvalid", expires, now, err)
		}
	}
}

func (s *suite) ephemeralKindsAreSeparate(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	// The same strings split differently between kind and key must not collide.
	entries := []struct{ kind, key, data string }{
		{"flow", "abc", "1"},
		{"session", "abc", "2"},
		{"flowa", "bc", "3"},
		{"flo", "wabc", "4"},
	}
	for _, e := range entries {
		if err := st.PutEphemeral(ctx, e.kind, e.key, []byte(e.data), now.Add(time.Hour)); err != nil {
			t.Fatalf("PutEphemeral(%q,%q): %v", e.kind, e.key, err)
		}
	}
	must(t, st.DeleteEphemeral(ctx, "flow", "abc"))
	for _, e := range entries[1:] {
		if got, err := st.GetEphemeral(ctx, e.kind, e.key, now); err != nil || string(got) != e.data {
			t.Errorf("GetEphemeral(%q,%q) = %q, %v; want %q", e.kind, e.key, got, err, e.data)
		}
	}
}

func (s *suite) ephemeralTakeOnce(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	must(t, st.PutEphemeral(ctx, "flow", "state", []byte("pkce"), now.Add(time.Hour)))
	got, err := st.TakeEphemeral(ctx, "flow", "state", now)
	if err != nil || string(got) != "pkce" {
		t.Fatalf("TakeEphemeral = %q, %v; want pkce", got, err)
	}
	if _, err := st.TakeEphemeral(ctx, "flow", "state", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second TakeEphemeral err = %v, want ErrNotFound", err)
	}
	if _, err := st.GetEphemeral(ctx, "flow", "state", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEphemeral after take err = %v, want ErrNotFound", err)
	}
}

func (s *suite) ephemeralTakeExpired(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	expires := now.Add(time.Minute)
	must(t, st.PutEphemeral(ctx, "flow", "state", []byte("v"), expires))
	if _, err := st.TakeEphemeral(ctx, "flow", "state", expires); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TakeEphemeral at expiry err = %v, want ErrNotFound", err)
	}
}

func (s *suite) ephemeralConcurrentTakeOneWins(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	must(t, st.PutEphemeral(ctx, "replay", "assertion", []byte("once"), now.Add(time.Hour)))
	const n = 16
	errs := Parallel(n, func(int) error {
		got, err := st.TakeEphemeral(ctx, "replay", "assertion", now)
		if err == nil && string(got) != "once" {
			return errors.New("winner got wrong data: " + string(got))
		}
		return err
	})
	wantOneWinner(t, errs, store.ErrNotFound, "takers")
}

func (s *suite) ephemeralConcurrentPutOneWins(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	const n = 16
	errs := Parallel(n, func(int) error {
		return st.PutEphemeral(ctx, "replay", "assertion", []byte("seen"), now.Add(time.Hour))
	})
	wantOneWinner(t, errs, store.ErrConflict, "puts (replay cache semantics)")
}

func (s *suite) ephemeralDelete(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	must(t, st.PutEphemeral(ctx, "session", "sid", []byte("v"), now.Add(time.Hour)))
	if err := st.DeleteEphemeral(ctx, "session", "sid"); err != nil {
		t.Fatalf("DeleteEphemeral: %v", err)
	}
	if _, err := st.GetEphemeral(ctx, "session", "sid", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEphemeral after delete err = %v, want ErrNotFound", err)
	}
	if err := st.DeleteEphemeral(ctx, "session", "sid"); err != nil {
		t.Errorf("deleting an absent entry: %v, want nil", err)
	}
	// The key is free again.
	if err := st.PutEphemeral(ctx, "session", "sid", []byte("v2"), now.Add(time.Hour)); err != nil {
		t.Errorf("PutEphemeral after delete: %v", err)
	}
}

func (s *suite) ephemeralPurgeExpired(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	lifetimes := map[string]time.Duration{"a": time.Minute, "b": 2 * time.Minute, "c": time.Hour, "d": 2 * time.Hour}
	for key, d := range lifetimes {
		must(t, st.PutEphemeral(ctx, "flow", key, []byte(key), now.Add(d)))
	}
	at := now.Add(2 * time.Minute) // a expired, b expires exactly now
	n, err := st.PurgeExpired(ctx, at)
	if err != nil || n != 2 {
		t.Fatalf("PurgeExpired = %d, %v; want 2", n, err)
	}
	// Purged rows are gone even for a reader whose clock lags.
	for _, key := range []string{"a", "b"} {
		if _, err := st.GetEphemeral(ctx, "flow", key, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after purge err = %v, want ErrNotFound", key, err)
		}
	}
	for _, key := range []string{"c", "d"} {
		if _, err := st.GetEphemeral(ctx, "flow", key, at); err != nil {
			t.Errorf("%s purged too early: %v", key, err)
		}
	}
	if n, err := st.PurgeExpired(ctx, at); err != nil || n != 0 {
		t.Errorf("second PurgeExpired = %d, %v; want 0", n, err)
	}
}

func (s *suite) ephemeralInvalidArguments(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	tests := []struct{ name, kind, key string }{
		{"no kind", "", "k"},
		{"no key", "flow", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, wantErr(store.ErrInvalid, func() error {
			return st.PutEphemeral(ctx, tt.kind, tt.key, []byte("v"), now.Add(time.Hour))
		}))
	}
}

var (
	alice = store.CLISessionOwner{Provider: "corp", Subject: "alice"}
	bob   = store.CLISessionOwner{Provider: "corp", Subject: "bob"}
)

func cliSession(id string, owner store.CLISessionOwner, created time.Time, ttl time.Duration) store.CLISession {
	return store.CLISession{
		ID: id, TokenHash: "hash-" + id, Owner: owner, PoolID: "us-east-1:pool", Method: "loopback",
		Client: "laptop", Sealed: []byte("sealed-" + id), CreatedAt: created, ExpiresAt: created.Add(ttl),
	}
}

// withAliceSession opens a fresh store holding alice's session a1, live
// for an hour from now.
func (s *suite) withAliceSession(t *testing.T) (st store.Store, cs store.CLISession, now time.Time) {
	t.Helper()
	st, now = s.fresh(t), s.now()
	cs = cliSession("a1", alice, now, time.Hour)
	must(t, st.CreateCLISession(context.Background(), cs))
	return st, cs, now
}

func (s *suite) cliCreateGetList(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	sessions := []store.CLISession{
		cliSession("a1", alice, now.Add(-2*time.Minute), 12*time.Hour),
		cliSession("a2", alice, now.Add(-time.Minute), 12*time.Hour),
		cliSession("b1", bob, now, time.Hour),
		// Same subject at another provider is another person.
		cliSession("x1", store.CLISessionOwner{Provider: "other", Subject: "alice"}, now, time.Hour),
	}
	sessions[1].Method, sessions[1].Sealed = "device", []byte{0, 1, 0xff}
	for _, cs := range sessions {
		if err := st.CreateCLISession(ctx, cs); err != nil {
			t.Fatalf("CreateCLISession(%s): %v", cs.ID, err)
		}
	}
	for _, want := range sessions {
		got, err := st.GetCLISession(ctx, want.TokenHash, now)
		if err != nil {
			t.Fatalf("GetCLISession(%s): %v", want.ID, err)
		}
		if got.ID != want.ID || got.Owner != want.Owner || got.PoolID != want.PoolID || got.Method != want.Method ||
			got.Client != want.Client || !bytes.Equal(got.Sealed, want.Sealed) || !sameInstant(got.CreatedAt, want.CreatedAt) ||
			!sameInstant(got.ExpiresAt, want.ExpiresAt) || !sameInstant(got.LastUsedAt, want.CreatedAt) {
			t.Errorf("GetCLISession(%s) = %+v, want %+v (LastUsedAt = CreatedAt)", want.ID, got, want)
		}
	}
	if _, err := st.GetCLISession(ctx, "hash-unknown", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCLISession(unknown) err = %v, want ErrNotFound", err)
	}
	tests := []struct {
		owner store.CLISessionOwner
		want  []string
	}{
		{alice, []string{"a2", "a1"}},
		{bob, []string{"b1"}},
		{store.CLISessionOwner{Provider: "corp", Subject: "carol"}, nil},
	}
	for _, tt := range tests {
		got, err := st.ListCLISessions(ctx, tt.owner, now)
		if err != nil {
			t.Fatalf("ListCLISessions(%v): %v", tt.owner, err)
		}
		var ids []string
		for _, cs := range got {
			ids = append(ids, cs.ID)
		}
		if len(ids) != len(tt.want) || (len(ids) > 0 && (ids[0] != tt.want[0] || ids[len(ids)-1] != tt.want[len(tt.want)-1])) {
			t.Errorf("ListCLISessions(%v) = %v, want %v (newest first)", tt.owner, ids, tt.want)
		}
	}
}

func (s *suite) cliExpiryBoundary(t *testing.T) {
	st, cs, now := s.withAliceSession(t)
	ctx := context.Background()
	for _, tt := range aroundExpiry("before", now, cs.ExpiresAt) {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.GetCLISession(ctx, cs.TokenHash, tt.at)
			list, lerr := st.ListCLISessions(ctx, alice, tt.at)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if tt.alive && (err != nil || len(list) != 1) {
				t.Errorf("at %v: Get err = %v, List = %d entries; want the session", tt.at, err, len(list))
			}
			if !tt.alive && (!errors.Is(err, store.ErrNotFound) || len(list) != 0) {
				t.Errorf("at %v: Get err = %v, List = %d entries; want ErrNotFound and none", tt.at, err, len(list))
			}
		})
	}
}

func (s *suite) cliDuplicatesConflict(t *testing.T) {
	st, first, now := s.withAliceSession(t)
	ctx := context.Background()
	sameID := cliSession("a1", bob, now, time.Hour)
	sameID.TokenHash = "hash-other"
	sameHash := cliSession("a2", bob, now, time.Hour)
	sameHash.TokenHash = first.TokenHash
	for name, cs := range map[string]store.CLISession{"same id": sameID, "same token hash": sameHash} {
		if err := st.CreateCLISession(ctx, cs); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: err = %v, want ErrConflict", name, err)
		}
	}
	got, err := st.GetCLISession(ctx, first.TokenHash, now)
	if err != nil || got.Owner != alice {
		t.Errorf("first session after conflicts = %+v, %v; want it unchanged", got, err)
	}
}

func (s *suite) cliInvalidArguments(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	tests := []struct {
		name   string
		mutate func(*store.CLISession)
	}{
		{"no id", func(cs *store.CLISession) { cs.ID = "" }},
		{"no token hash", func(cs *store.CLISession) { cs.TokenHash = "" }},
		{"no provider", func(cs *store.CLISession) { cs.Owner.Provider = "" }},
		{"no subject", func(cs *store.CLISession) { cs.Owner.Subject = "" }},
		{"no pool", func(cs *store.CLISession) { cs.PoolID = "" }},
		{"nothing sealed", func(cs *store.CLISession) { cs.Sealed = nil }},
		{"no creation time", func(cs *store.CLISession) { cs.CreatedAt = time.Time{} }},
		{"expires before created", func(cs *store.CLISession) { cs.ExpiresAt = cs.CreatedAt.Add(-time.Second) }},
	}
	for _, tt := range tests {
		cs := cliSession("a1", alice, now, time.Hour)
		tt.mutate(&cs)
		t.Run(tt.name, wantErr(store.ErrInvalid, func() error { return st.CreateCLISession(ctx, cs) }))
	}
}

func (s *suite) cliCreateAlreadyExpired(t *testing.T) {
	s.needClock(t)
	st, now := s.fresh(t), s.clock.Now()
	cs := cliSession("a1", alice, now.Add(-2*time.Hour), time.Hour) // expired an hour ago by the store's clock
	if err := st.CreateCLISession(context.Background(), cs); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

func (s *suite) cliDeleteOnlyOwn(t *testing.T) {
	st, cs, now := s.withAliceSession(t)
	ctx := context.Background()
	if err := st.DeleteCLISession(ctx, bob, "a1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob revoking alice's session: err = %v, want ErrNotFound", err)
	}
	if _, err := st.GetCLISession(ctx, cs.TokenHash, now); err != nil {
		t.Errorf("alice's session after bob's attempt: %v", err)
	}
	if err := st.DeleteCLISession(ctx, alice, "a1"); err != nil {
		t.Fatalf("alice revoking her session: %v", err)
	}
	if _, err := st.GetCLISession(ctx, cs.TokenHash, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked session: err = %v, want ErrNotFound", err)
	}
	if err := st.DeleteCLISession(ctx, alice, "a1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking twice: err = %v, want ErrNotFound", err)
	}
}

func (s *suite) cliTouch(t *testing.T) {
	st, cs, now := s.withAliceSession(t)
	ctx := context.Background()
	used := now.Add(10 * time.Minute)
	for _, at := range []time.Time{used, now.Add(5 * time.Minute)} { // the second is older: ignored
		if err := st.TouchCLISession(ctx, "a1", at); err != nil {
			t.Fatalf("TouchCLISession: %v", err)
		}
	}
	got, err := st.GetCLISession(ctx, cs.TokenHash, now)
	if err != nil || !sameInstant(got.LastUsedAt, used) {
		t.Errorf("LastUsedAt = %v, %v; want %v (never moves back)", got.LastUsedAt, err, used)
	}
	if err := st.TouchCLISession(ctx, "unknown", used); err != nil {
		t.Errorf("touching an unknown session: %v, want nil", err)
	}
}

func (s *suite) cliCreateDropsOwnersExpired(t *testing.T) {
	s.needClock(t)
	st, ctx := s.fresh(t), context.Background()
	start := s.clock.Now()
	old := cliSession("a-old", alice, start, time.Minute)
	other := cliSession("b-old", bob, start, time.Minute)
	for _, cs := range []store.CLISession{old, other} {
		must(t, st.CreateCLISession(ctx, cs))
	}
	s.clock.Advance(2 * time.Minute)
	must(t, st.CreateCLISession(ctx, cliSession("a-new", alice, s.clock.Now(), time.Hour)))
	// Read with a clock that lags: alice's expired row is gone, bob's is not
	// (only the owner's rows are dropped).
	if _, err := st.GetCLISession(ctx, old.TokenHash, start); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("alice's expired session still stored: err = %v", err)
	}
	if _, err := st.GetCLISession(ctx, other.TokenHash, start); err != nil {
		t.Errorf("bob's session dropped by alice's login: %v", err)
	}
}

func (s *suite) cliCancelledContext(t *testing.T) {
	st, cs, now := s.withAliceSession(t)
	ctx := cancelled()
	calls := map[string]func() error{
		"Create": func() error { return st.CreateCLISession(ctx, cliSession("a2", alice, now, time.Hour)) },
		"Get":    func() error { _, err := st.GetCLISession(ctx, cs.TokenHash, now); return err },
		"List":   func() error { _, err := st.ListCLISessions(ctx, alice, now); return err },
		"Delete": func() error { return st.DeleteCLISession(ctx, alice, "a1") },
		"Touch":  func() error { return st.TouchCLISession(ctx, "a1", now.Add(time.Minute)) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", name, err)
		}
	}
	if _, err := st.GetCLISession(context.Background(), cs.TokenHash, now); err != nil {
		t.Errorf("session after cancelled calls: %v", err)
	}
}
