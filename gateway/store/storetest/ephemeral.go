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
