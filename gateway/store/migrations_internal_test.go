package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A database whose audit log was made with AUTOINCREMENT (schema 16) keeps
// every entry, with its id, when the log moves to the plain rowid, and new
// entries still get larger ids.
func TestSQLiteAuditLogRebuiltOnRowid(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fedgate.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	d := sqliteDialect()
	const before = 16
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	for i, step := range migrations()[:before] {
		exec(d.ddl(step))
		exec(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`, i+1)
	}
	for _, id := range []int64{5, 9, 12} {
		exec(`INSERT INTO audit_log (id, at, kind, actor, identity_id, provider, subject, pool, role, source, request_id, result, reason, version)
			VALUES ($1, $2, 'vend', 'alice', 'id-1', 'demo', 'sub-1', 'team', 'arn:aws:iam::1:role/r', '127.0.0.1', $3, 'ok', '', 1)`,
			id, time.Date(2026, 1, 1, 0, 0, int(id), 0, time.UTC).UnixNano(), "req-"+strings.Repeat("x", int(id)))
	}

	s, err := OpenSQLite(ctx, path, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.ListAudit(ctx, AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d entries after the migration, want 3", len(got))
	}
	for i, id := range []int64{12, 9, 5} {
		e := got[i]
		if e.ID != id || e.RequestID != "req-"+strings.Repeat("x", int(id)) || e.Actor != "alice" || e.Role != "arn:aws:iam::1:role/r" ||
			!e.Time.Equal(time.Date(2026, 1, 1, 0, 0, int(id), 0, time.UTC)) {
			t.Errorf("entry %d = %+v, want id %d as stored", i, e, id)
		}
	}
	id, err := s.AppendAudit(ctx, AuditEntry{Kind: AuditVend, Result: AuditOK, RequestID: "new"})
	if err != nil || id != 13 {
		t.Errorf("new entry id = %d, %v; want 13", id, err)
	}
	var schema string
	if err := raw.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(schema), "AUTOINCREMENT") {
		t.Errorf("audit_log still has AUTOINCREMENT:\n%s", schema)
	}
	var indexes int
	if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'audit_log_at' AND tbl_name = 'audit_log'`).Scan(&indexes); err != nil || indexes != 1 {
		t.Errorf("audit_log_at index: %d, %v; want it rebuilt", indexes, err)
	}
}
