package core

import (
	"context"
	"time"
)

// The audit log is pruned in the background, in small batches with a
// pause between them, so pruning a backlog never holds the store's writer
// for long. Every replica prunes; deleting the same rows twice is harmless.
const (
	auditPruneEvery = time.Minute
	auditPruneBatch = 500
	auditPrunePause = 20 * time.Millisecond
)

// PruneAuditLog deletes audit entries past audit.retention or beyond
// audit.max_rows every minute until ctx ends.
func (s *Core) PruneAuditLog(ctx context.Context) {
	tick := time.NewTicker(auditPruneEvery)
	defer tick.Stop()
	for {
		if n, err := s.PruneAuditOnce(ctx, auditPrunePause); err != nil && ctx.Err() == nil {
			s.log.Error("pruning the audit log failed", "error", err)
		} else if n > 0 {
			s.log.Info("pruned the audit log", "entries", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// PruneAuditOnce deletes, batch by batch, every audit entry the settings
// no longer keep, and says how many it deleted.
func (s *Core) PruneAuditOnce(ctx context.Context, pause time.Duration) (int64, error) {
	var total int64
	for {
		before := s.now().Add(-s.cfg.Audit.Retention.D())
		n, err := s.store.PruneAudit(ctx, before, s.cfg.Audit.MaxRows, auditPruneBatch)
		total += n
		if err != nil || n < auditPruneBatch {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(pause):
		}
	}
}
