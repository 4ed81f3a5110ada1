package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fedgate/gateway/store"
)

// sqliteAt is the database in the file at path; raw opens the file behind
// the store's back, as an attacker with a copy would.
func sqliteAt(t testing.TB, path string) database {
	return database{
		t: t,
		dial: func(ctx context.Context, now func() time.Time) (store.Store, error) {
			return store.OpenSQLite(ctx, path, now)
		},
		raw: rawSQL(t, "sqlite", path),
	}
}

// sqliteDB is a database in a new file.
func sqliteDB(t testing.TB) database {
	return sqliteAt(t, filepath.Join(t.TempDir(), "fedgate.db"))
}

func TestSQLiteConformance(t *testing.T) { conformance(t, sqliteDB) }

func TestSQLiteConformanceWallClock(t *testing.T) { conformanceWallClock(t, sqliteDB) }

func TestSQLiteFileModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedgate.db")
	s := sqliteAt(t, path).open(time.Now)
	// Write something so the WAL exists.
	if _, err := s.PutConfig(context.Background(), store.ConfigVersion{Doc: []byte(`{}`)}, 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat %s: %v", p, err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s mode = %o, want 600", filepath.Base(p), mode)
		}
	}
}

func TestSQLitePragmas(t *testing.T) {
	db := sqliteDB(t)
	db.open(time.Now)
	var mode string
	if err := db.raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal (persisted in the file)", mode)
	}
}

func TestSQLiteEphemeralKeysAreHashed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedgate.db")
	putsEphemeralKeyHashed(t, sqliteAt(t, path))
	// Nowhere in the database or its WAL may the key appear in clear.
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(ephemeralSecret)) {
			t.Errorf("%s contains the ephemeral key in clear", filepath.Base(p))
		}
	}
}

func TestSQLiteMigrationsIdempotentOnReopen(t *testing.T) {
	db := sqliteDB(t)
	var first int
	for i := range 3 {
		if err := db.open(time.Now).Close(); err != nil {
			t.Fatal(err)
		}
		if n := migrationsRecorded(t, db); i == 0 {
			first = n
		} else if n != first {
			t.Errorf("after reopening: %d migrations, want still %d", n, first)
		}
	}
}

func TestSQLiteRefusesNewerSchema(t *testing.T) { refusesNewerSchema(t, sqliteDB(t)) }

// When the audit insert fails, the version is not stored either.
func TestSQLitePutConfigWithAuditRollsBackOnAuditFailure(t *testing.T) {
	auditFailureRollsBack(t, sqliteDB(t),
		[]string{`CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit disk full'); END`},
		`DROP TRIGGER audit_fails`)
}

func TestSQLiteOpenInvalid(t *testing.T) {
	opensRefused(t, store.OpenSQLite, []badOpen{
		{"no path", "", time.Now, store.ErrInvalid},
		{"no clock", filepath.Join(t.TempDir(), "x.db"), nil, store.ErrInvalid},
		{"missing directory", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), time.Now, nil},
	}, nil)
}

// Paths with URI syntax in them must still name the file they say.
func TestSQLiteAwkwardPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?x=1#frag%20")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "fedgate.db")
	sqliteAt(t, path).open(time.Now)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
}

// Two stores on one file stand in for two processes: their writers must
// queue on the database lock (busy_timeout + BEGIN IMMEDIATE), not fail.
func TestSQLiteTwoStoresOneFile(t *testing.T) {
	replicasCreateOneIdentity(t, twoStores(sqliteDB(t)))
}

// A read-then-write transaction (PutConfig) is where a deferred BEGIN would
// fail with SQLITE_BUSY across connections; IMMEDIATE makes it queue.
func TestSQLiteTwoStoresConfigWriters(t *testing.T) {
	replicasConfigWriters(t, twoStores(sqliteDB(t)), false)
}
