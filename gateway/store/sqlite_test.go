package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fedgate/gateway/store"
	"fedgate/gateway/store/storetest"
)

func openSQLite(t testing.TB, path string, now func() time.Time) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(context.Background(), path, now)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSQLiteConformance(t *testing.T) {
	clock := storetest.NewClock()
	storetest.Run(t,
		func(t *testing.T) store.Store {
			return openSQLite(t, filepath.Join(t.TempDir(), "fedgate.db"), clock.Now)
		},
		storetest.WithClock(clock),
		storetest.WithReopen(func(t *testing.T) func() store.Store {
			path := filepath.Join(t.TempDir(), "fedgate.db")
			return func() store.Store { return openSQLite(t, path, clock.Now) }
		}),
	)
}

// The suite must also hold for a backend that gives it no clock.
func TestSQLiteConformanceWallClock(t *testing.T) {
	if testing.Short() {
		t.Skip("second full pass")
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		return openSQLite(t, filepath.Join(t.TempDir(), "fedgate.db"), time.Now)
	})
}

func TestSQLiteFileModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedgate.db")
	s := openSQLite(t, path, time.Now)
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

// rawDB opens the file behind the store's back, as an attacker with a copy would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestSQLitePragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedgate.db")
	openSQLite(t, path, time.Now)
	var mode string
	if err := rawDB(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal (persisted in the file)", mode)
	}
}

func TestSQLiteEphemeralKeysAreHashed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedgate.db")
	s := openSQLite(t, path, time.Now)
	const secret = "live-session-id-7f3c9a1e5b"
	if err := s.PutEphemeral(context.Background(), "session", secret, []byte("payload"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var keyHash string
	if err := rawDB(t, path).QueryRow(`SELECT key_hash FROM ephemeral`).Scan(&keyHash); err != nil {
		t.Fatal(err)
	}
	if keyHash != store.EphemeralKeyHash("session", secret) || len(keyHash) != 64 {
		t.Errorf("key_hash = %q, want the SHA-256 hex of the kind and key", keyHash)
	}
	// Nowhere in the database or its WAL may the key appear in clear.
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s contains the ephemeral key in clear", filepath.Base(p))
		}
	}
}

func TestSQLiteMigrationsIdempotentOnReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedgate.db")
	count := func() (n, max int) {
		t.Helper()
		if err := rawDB(t, path).QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
			t.Fatal(err)
		}
		return n, max
	}
	first := openSQLite(t, path, time.Now)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	n1, max1 := count()
	if n1 == 0 || n1 != max1 {
		t.Fatalf("after first open: %d migrations recorded, highest %d; want 1..N", n1, max1)
	}
	for range 2 {
		s := openSQLite(t, path, time.Now)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n, max := count(); n != n1 || max != max1 {
		t.Errorf("after reopening: %d migrations (highest %d), want still %d (%d)", n, max, n1, max1)
	}
}

func TestSQLiteRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedgate.db")
	if err := openSQLite(t, path, time.Now).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rawDB(t, path).Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenSQLite(context.Background(), path, time.Now)
	if err == nil {
		_ = s.Close()
		t.Fatal("OpenSQLite accepted a schema from a newer binary")
	}
}

func TestSQLiteOpenInvalid(t *testing.T) {
	tests := []struct {
		name string
		path string
		now  func() time.Time
		kind error
	}{
		{"no path", "", time.Now, store.ErrInvalid},
		{"no clock", filepath.Join(t.TempDir(), "x.db"), nil, store.ErrInvalid},
		{"missing directory", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), time.Now, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.OpenSQLite(context.Background(), tt.path, tt.now)
			if err == nil {
				_ = s.Close()
				t.Fatal("OpenSQLite succeeded")
			}
			if tt.kind != nil && !errors.Is(err, tt.kind) {
				t.Errorf("err = %v, want %v", err, tt.kind)
			}
		})
	}
}

// Paths with URI syntax in them must still name the file they say.
func TestSQLiteAwkwardPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?x=1#frag%20")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "fedgate.db")
	openSQLite(t, path, time.Now)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
}

// Two stores on one file stand in for two processes: their writers must
// queue on the database lock (busy_timeout + BEGIN IMMEDIATE), not fail.
func TestSQLiteTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedgate.db")
	stores := []*store.SQLite{openSQLite(t, path, time.Now), openSQLite(t, path, time.Now)}
	ctx := context.Background()
	k := store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "alice"}
	const n = 20
	type result struct {
		id      string
		created bool
		err     error
	}
	results := make(chan result, n)
	for i := range n {
		go func() {
			id, created, err := stores[i%2].GetOrCreateIdentity(ctx, k, fmt.Sprintf("r:%d", i))
			results <- result{id, created, err}
		}()
	}
	creators, ids := 0, map[string]bool{}
	for range n {
		r := <-results
		if r.err != nil {
			t.Fatalf("GetOrCreateIdentity: %v", r.err)
		}
		if r.created {
			creators++
		}
		ids[r.id] = true
	}
	if creators != 1 || len(ids) != 1 {
		t.Errorf("%d creators and %d distinct ids across two stores, want 1 and 1", creators, len(ids))
	}
}

// A read-then-write transaction (PutConfig) is where a deferred BEGIN would
// fail with SQLITE_BUSY across connections; IMMEDIATE makes it queue.
func TestSQLiteTwoStoresConfigWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedgate.db")
	stores := []*store.SQLite{openSQLite(t, path, time.Now), openSQLite(t, path, time.Now)}
	ctx := context.Background()
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			s := stores[i%2]
			for {
				var latest int64
				v, err := s.LatestConfig(ctx)
				switch {
				case err == nil:
					latest = v.Version
				case !errors.Is(err, store.ErrNotFound):
					errs <- err
					return
				}
				_, err = s.PutConfig(ctx, store.ConfigVersion{Doc: []byte(fmt.Sprintf(`{"writer":%d}`, i))}, latest)
				if !errors.Is(err, store.ErrConflict) {
					errs <- err // nil on success
					return
				}
			}
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("writer failed: %v", err)
		}
	}
	if v, err := stores[0].LatestConfig(ctx); err != nil || v.Version != n {
		t.Errorf("LatestConfig = %+v, %v; want version %d", v, err, n)
	}
}
