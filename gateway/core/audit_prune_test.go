package core

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// A backlog larger than one batch is pruned completely, oldest first, and
// entries within retention stay.
func TestPruneAuditOnceByRetention(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "fedgate.db"), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	const old = auditPruneBatch*2 + 37
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < old; i += 32 {
				at := now.Add(-401 * 24 * time.Hour).Add(time.Duration(i) * time.Second)
				if _, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, Time: at}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for i := range 3 {
		at := now.Add(-399 * 24 * time.Hour)
		if _, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, Time: at, RequestID: fmt.Sprint("kept-", i)}); err != nil {
			t.Fatal(err)
		}
	}
	f := &config.File{}
	f.Audit.Retention = config.Duration(config.DefaultAuditRetention)
	c := &Core{cfg: f, store: st, now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler)}
	n, err := c.PruneAuditOnce(ctx, 0)
	if err != nil || n != old {
		t.Fatalf("PruneAuditOnce = %d, %v; want %d", n, err, old)
	}
	left, err := st.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(left) != 3 {
		t.Fatalf("%d entries left (%v), want the 3 within retention", len(left), err)
	}
	for _, e := range left {
		if e.RequestID == "" {
			t.Errorf("an expired entry survived: %+v", e)
		}
	}
}
