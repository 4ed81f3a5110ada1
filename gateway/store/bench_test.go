package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"fedgate/gateway/store"
)

func BenchmarkSQLite(b *testing.B) {
	runBenchmarks(b, func(b *testing.B) store.Store { return sqliteDB(b).open(time.Now) })
}

// benchCase is one timed store operation; i counts its calls from 1.
type benchCase struct {
	name     string
	setup    func(ctx context.Context, s store.Store) error
	op       func(ctx context.Context, s store.Store, i int64) error
	parallel bool // call op from GOMAXPROCS goroutines at once
}

// runBenchmarks times the hot and the write paths on stores from open, the
// same bodies for every backend so their numbers compare.
func runBenchmarks(b *testing.B, open func(b *testing.B) store.Store) {
	ctx := context.Background()
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			s := open(b)
			if c.setup != nil {
				if err := c.setup(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
			var n atomic.Int64
			if c.parallel {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := c.op(ctx, s, n.Add(1)); err != nil {
							b.Error(err)
							return
						}
					}
				})
				return
			}
			for b.Loop() {
				if err := c.op(ctx, s, n.Add(1)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchCases() []benchCase {
	alice := store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "alice"}
	createAlice := func(ctx context.Context, s store.Store) error {
		_, _, err := s.GetOrCreateIdentity(ctx, alice, "r:1")
		return err
	}
	signInAgain := func(ctx context.Context, s store.Store, _ int64) error {
		_, _, err := s.GetOrCreateIdentity(ctx, alice, "r:2")
		return err
	}
	putTake := func(ctx context.Context, s store.Store, i int64) error {
		key := fmt.Sprint("state-", i)
		if err := s.PutEphemeral(ctx, "flow", key, []byte("flow data"), time.Now().Add(time.Minute)); err != nil {
			return err
		}
		_, err := s.TakeEphemeral(ctx, "flow", key, time.Now())
		return err
	}
	var latest atomic.Int64 // PutConfigWithAudit runs serially
	return []benchCase{
		{name: "GetOrCreateIdentityExisting", setup: createAlice, op: signInAgain},
		{name: "GetOrCreateIdentityExistingParallel", setup: createAlice, op: signInAgain, parallel: true},
		{name: "GetOrCreateIdentityNew", op: func(ctx context.Context, s store.Store, i int64) error {
			sub := fmt.Sprint("user-", i)
			_, _, err := s.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: "p", Provider: "okta", Subject: sub}, "r:"+sub)
			return err
		}},
		{name: "EphemeralPutTake", op: putTake},
		{name: "EphemeralPutTakeParallel", op: putTake, parallel: true},
		{name: "GetEphemeral",
			setup: func(ctx context.Context, s store.Store) error {
				return s.PutEphemeral(ctx, "session", "s1", []byte("session data"), time.Now().Add(time.Hour))
			},
			op: func(ctx context.Context, s store.Store, _ int64) error {
				_, err := s.GetEphemeral(ctx, "session", "s1", time.Now())
				return err
			}},
		{name: "PutConfigWithAudit",
			setup: func(context.Context, store.Store) error { latest.Store(0); return nil },
			op: func(ctx context.Context, s store.Store, _ int64) error {
				v, err := s.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{"pools":[]}`)}, latest.Load(),
					store.AuditEntry{Kind: store.AuditAdminChange, Result: store.AuditOK})
				latest.Store(v)
				return err
			}},
		{name: "AppendAudit", op: func(ctx context.Context, s store.Store, _ int64) error {
			_, err := s.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, Subject: "alice", Role: "arn:aws:iam::123456789012:role/dev"})
			return err
		}},
		{name: "ListAudit100",
			setup: func(ctx context.Context, s store.Store) error {
				for i := range 200 {
					if _, err := s.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, Subject: fmt.Sprint("user-", i)}); err != nil {
						return err
					}
				}
				return nil
			},
			op: func(ctx context.Context, s store.Store, _ int64) error {
				_, err := s.ListAudit(ctx, store.AuditQuery{Text: "user-1", Limit: 100})
				return err
			}},
		{name: "ListSigningKeys",
			setup: func(ctx context.Context, s store.Store) error {
				for i := range 3 {
					if err := s.AddSigningKey(ctx, store.StoredKey{ID: fmt.Sprint("k", i), Algorithm: "ES256", Sealed: []byte("sealed")}); err != nil {
						return err
					}
				}
				return nil
			},
			op: func(ctx context.Context, s store.Store, _ int64) error {
				_, err := s.ListSigningKeys(ctx)
				return err
			}},
	}
}
