package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"fedgate/gateway/store"
)

// When the audit insert fails inside the transaction, the version it would
// have recorded is not stored either: version and audit entry are one unit.
func TestSQLitePutConfigWithAuditRollsBackOnAuditFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedgate.db")
	s := openSQLite(t, path, time.Now)
	ctx := context.Background()
	change := store.AuditEntry{Kind: store.AuditAdminChange, Result: store.AuditOK, Actor: "carol"}
	if _, err := s.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{"v":1}`)}, 0, change); err != nil {
		t.Fatal(err)
	}
	// Make the audit insert fail, behind the store's back.
	db := rawDB(t, path)
	if _, err := db.Exec(`CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit disk full'); END`); err != nil {
		t.Fatal(err)
	}
	_, err := s.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{"v":2}`)}, 1, change)
	if err == nil {
		t.Fatal("PutConfigWithAudit succeeded although the audit insert failed")
	}
	var se *store.Error
	if !errors.As(err, &se) || se.Public() != "storage unavailable" {
		t.Errorf("error %v: want a store.Error whose public message hides the cause", err)
	}
	latest, err := s.LatestConfig(ctx)
	if err != nil || latest.Version != 1 || string(latest.Doc) != `{"v":1}` {
		t.Errorf("after the failed write LatestConfig = %+v, %v; want version 1 unchanged", latest, err)
	}
	if _, err := db.Exec(`DROP TRIGGER audit_fails`); err != nil {
		t.Fatal(err)
	}
	// The failed attempt left nothing behind: the next write is version 2.
	if v, err := s.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{"v":2}`)}, 1, change); err != nil || v != 2 {
		t.Errorf("retry = %d, %v; want version 2", v, err)
	}
	entries, err := s.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(entries) != 2 || entries[0].Version != 2 || entries[1].Version != 1 {
		t.Errorf("audit = %+v, %v; want versions 2 and 1", entries, err)
	}
}
