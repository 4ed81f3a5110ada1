package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"fedgate/gateway/store"
)

// Expired sign-in flows and device codes go in batches of the given size;
// live ones stay.
func (s *suite) purgeExpiredInBatches(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	for i := range 7 {
		must(t, st.PutEphemeral(ctx, "login-flow", fmt.Sprintf("old-%d", i), []byte("f"), now.Add(time.Minute)))
	}
	must(t, st.PutEphemeral(ctx, "cli-device", "old-device", []byte("d"), now.Add(time.Minute)))
	must(t, st.PutEphemeral(ctx, "login-flow", "live", []byte("f"), now.Add(time.Hour)))
	must(t, st.PutEphemeral(ctx, "cli-device", "live-device", []byte("d"), now.Add(time.Hour)))
	at := now.Add(time.Minute) // the old ones expire exactly now

	var counts []int64
	for {
		n, err := st.PurgeExpiredBatch(ctx, at, 3)
		if err != nil {
			t.Fatalf("PurgeExpiredBatch: %v", err)
		}
		counts = append(counts, n)
		if n < 3 {
			break
		}
	}
	if fmt.Sprint(counts) != "[3 3 2]" {
		t.Errorf("batches deleted %v, want [3 3 2]", counts)
	}
	for _, e := range []struct{ kind, key string }{{"login-flow", "live"}, {"cli-device", "live-device"}} {
		if _, err := st.GetEphemeral(ctx, e.kind, e.key, at); err != nil {
			t.Errorf("live %s purged: %v", e.kind, err)
		}
	}
	if _, err := st.GetEphemeral(ctx, "cli-device", "old-device", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired device code after purge: err = %v, want ErrNotFound", err)
	}
	if _, err := st.PurgeExpiredBatch(ctx, at, 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("limit 0: err = %v, want ErrInvalid", err)
	}
}

// Idle identities of one pool and provider go, in batches; recent ones,
// other pools' and other providers' stay.
func (s *suite) purgeIdleIdentities(t *testing.T) {
	s.needClock(t)
	st, ctx := s.fresh(t), context.Background()
	const guest = "cognito:unauthenticated"
	for i := range 5 {
		id := fmt.Sprintf("r:idle-%d", i)
		if _, _, err := st.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: "p", Provider: guest, Subject: id}, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []store.IdentityKey{{PoolID: "p", Provider: "okta", Subject: "alice"}, {PoolID: "q", Provider: guest, Subject: "r:q"}} {
		if _, _, err := st.GetOrCreateIdentity(ctx, k, "r:"+k.PoolID+k.Provider); err != nil {
			t.Fatal(err)
		}
	}
	s.clock.Advance(48 * time.Hour)
	if _, _, err := st.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: "p", Provider: guest, Subject: "r:recent"}, "r:recent"); err != nil {
		t.Fatal(err)
	}
	cutoff := s.now().Add(-24 * time.Hour)
	genBefore, err := st.IdentityGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for {
		n, err := st.PurgeIdleIdentities(ctx, "p", guest, cutoff, 2)
		if err != nil {
			t.Fatalf("PurgeIdleIdentities: %v", err)
		}
		if n > 2 {
			t.Fatalf("a batch of 2 deleted %d", n)
		}
		total += n
		if n < 2 {
			break
		}
	}
	if total != 5 {
		t.Errorf("purged %d identities, want the 5 idle guests", total)
	}
	// Replicas caching identities learn of the deletes.
	if gen, err := st.IdentityGeneration(ctx); err != nil || gen <= genBefore {
		t.Errorf("identity generation %d after the purge (%v), want above %d", gen, err, genBefore)
	}
	for _, id := range []string{"r:recent", "r:pokta", "r:q" + guest} {
		if _, err := st.LookupIdentity(ctx, id); err != nil {
			t.Errorf("%s purged: %v", id, err)
		}
	}
	if _, err := st.LookupIdentity(ctx, "r:idle-0"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("idle guest after purge: err = %v, want ErrNotFound", err)
	}
	if _, err := st.PurgeIdleIdentities(ctx, "", guest, cutoff, 2); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no pool: err = %v, want ErrInvalid", err)
	}
}

// A touched identity is not idle: its last use moves forward (never back,
// and at most once a minute) and the purge keeps it.
func (s *suite) purgeTouchKeepsIdentity(t *testing.T) {
	s.needClock(t)
	st, ctx := s.fresh(t), context.Background()
	k := store.IdentityKey{PoolID: "p", Provider: "cognito:unauthenticated", Subject: "r:g"}
	if _, _, err := st.GetOrCreateIdentity(ctx, k, "r:g"); err != nil {
		t.Fatal(err)
	}
	created := s.now()
	s.clock.Advance(48 * time.Hour)
	must(t, st.TouchIdentity(ctx, "r:g", s.now()))
	rec, err := st.LookupIdentity(ctx, "r:g")
	if err != nil || !sameInstant(rec.LastSeenAt, s.now()) {
		t.Fatalf("after touch: %+v, %v; want last seen %v", rec, err, s.now())
	}
	must(t, st.TouchIdentity(ctx, "r:g", created)) // an older use never moves it back
	if rec, _ := st.LookupIdentity(ctx, "r:g"); !sameInstant(rec.LastSeenAt, s.now()) {
		t.Errorf("touch with an older time moved last seen to %v", rec.LastSeenAt)
	}
	if n, err := st.PurgeIdleIdentities(ctx, k.PoolID, k.Provider, s.now().Add(-24*time.Hour), 10); err != nil || n != 0 {
		t.Errorf("purge after a touch = %d, %v; want 0", n, err)
	}
	must(t, st.TouchIdentity(ctx, "r:unknown", s.now()))
	must(t, st.TouchIdentity(ctx, "r:\x00bad", s.now()))
	if err := st.TouchIdentity(cancelled(), "r:g", s.now().Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Errorf("touch with a cancelled context: err = %v, want context.Canceled", err)
	}
}
