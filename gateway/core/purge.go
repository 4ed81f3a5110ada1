package core

// The purger: what unauthenticated callers leave in the store (sign-in
// flows, device codes, guest identities) does not outlive its use.

import (
	"context"
	"time"
)

// Purge rhythm: a round a minute, each statement deleting a small batch so
// that it never holds the store's writer for long, and a bounded number of
// batches a round so a backlog drains over several rounds.
const (
	PurgeInterval       = time.Minute
	purgeBatch          = 500
	purgeBatchesPerKind = 100
)

// PurgeCounts is what one round deleted.
type PurgeCounts struct {
	Expired int64 // expired short-lived entries: flows, device codes, sessions, ...
	Guests  int64 // guest identities unused for longer than their pool's guest_ttl
}

// Purge runs PurgeOnce every interval until ctx ends (the server's
// shutdown); it returns then.
func (s *Core) Purge(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := s.PurgeOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("purging the store failed", "error", err, "expired", n.Expired, "guests", n.Guests)
		case n.Expired+n.Guests > 0:
			s.log.Debug("purged the store", "expired", n.Expired, "guests", n.Guests)
		}
	}
}

// PurgeOnce deletes, a batch at a time, the entries expired at the
// injected clock's now and the guest identities of every live pool that
// nobody used for longer than the pool's guest_ttl.
func (s *Core) PurgeOnce(ctx context.Context) (PurgeCounts, error) {
	var n PurgeCounts
	now := s.now()
	expired, err := s.purgeBatches(ctx, func() (int64, error) { return s.store.PurgeExpiredBatch(ctx, now, purgeBatch) })
	n.Expired = expired
	if err != nil {
		return n, err
	}
	for _, p := range s.Snapshot().Ordered {
		cutoff := now.Add(-p.Cfg.GuestIdleTTL())
		guests, err := s.purgeBatches(ctx, func() (int64, error) {
			return s.store.PurgeIdleIdentities(ctx, p.Cfg.ID, GuestProvider, cutoff, purgeBatch)
		})
		n.Guests += guests
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// purgeBatches runs batch until it deletes less than a full batch.
func (s *Core) purgeBatches(ctx context.Context, batch func() (int64, error)) (int64, error) {
	var total int64
	for range purgeBatchesPerKind {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := batch()
		total += n
		if err != nil || n < purgeBatch {
			return total, err
		}
	}
	return total, nil
}

// touchGuest records that a guest identity vended, so the purger keeps
// it. The vend has happened: a failure is logged, and the client hanging
// up does not skip it.
func (s *Core) touchGuest(ctx context.Context, identityID string) {
	if err := s.store.TouchIdentity(context.WithoutCancel(ctx), identityID, s.now()); err != nil {
		LogFrom(ctx, s.log).Warn("recording the use of a guest identity failed", "identity_id", identityID, "error", err)
	}
}
