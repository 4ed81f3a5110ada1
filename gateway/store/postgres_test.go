package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver for raw checks

	"fedgate/gateway/store"
	"fedgate/gateway/store/storetest"
)

// The tests run against the PostgreSQL in FEDGATE_TEST_POSTGRES_DSN, by
// default the local one (trust auth on 127.0.0.1). Each test gets a schema
// of its own (search_path in the DSN), dropped when it ends, so parallel
// runs never meet. Unreachable: skipped locally, a failure under CI=true.
const defaultTestPostgresDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func testPostgresDSN() string {
	if dsn := os.Getenv("FEDGATE_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return defaultTestPostgresDSN
}

// withSearchPath adds search_path to a URL or key=value connection string.
func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + "search_path=" + schema
	}
	return dsn + " search_path=" + schema
}

var (
	adminOnce sync.Once
	adminDB   *sql.DB
	adminErr  error
)

// pgAdmin is the connection that creates and drops the test schemas.
func pgAdmin(t testing.TB) *sql.DB {
	t.Helper()
	adminOnce.Do(func() {
		adminDB, adminErr = sql.Open("pgx", testPostgresDSN())
		if adminErr == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			adminErr = adminDB.PingContext(ctx)
		}
	})
	if adminErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable at FEDGATE_TEST_POSTGRES_DSN (or the default local one) and CI=true: %v", adminErr)
		}
		t.Skipf("PostgreSQL unreachable (set FEDGATE_TEST_POSTGRES_DSN): %v", adminErr)
	}
	return adminDB
}

// pgSchema creates an empty schema for this test and returns a DSN whose
// search_path is that schema.
func pgSchema(t testing.TB) (dsn, schema string) {
	t.Helper()
	db := pgAdmin(t)
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema = "t_" + hex.EncodeToString(b)
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("dropping test schema %s: %v", schema, err)
		}
	})
	return withSearchPath(testPostgresDSN(), schema), schema
}

func openPostgres(t testing.TB, dsn string, now func() time.Time) *store.PostgreSQL {
	t.Helper()
	s, err := store.OpenPostgres(context.Background(), dsn, now)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestPostgresConformance(t *testing.T) {
	pgAdmin(t)
	clock := storetest.NewClock()
	storetest.Run(t,
		func(t *testing.T) store.Store {
			dsn, _ := pgSchema(t)
			return openPostgres(t, dsn, clock.Now)
		},
		storetest.WithClock(clock),
		storetest.WithReopen(func(t *testing.T) func() store.Store {
			dsn, _ := pgSchema(t)
			return func() store.Store { return openPostgres(t, dsn, clock.Now) }
		}),
	)
}

// The suite must also hold on the wall clock.
func TestPostgresConformanceWallClock(t *testing.T) {
	if testing.Short() {
		t.Skip("second full pass")
	}
	pgAdmin(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		dsn, _ := pgSchema(t)
		return openPostgres(t, dsn, time.Now)
	})
}

func TestPostgresEphemeralKeysAreHashed(t *testing.T) {
	dsn, schema := pgSchema(t)
	s := openPostgres(t, dsn, time.Now)
	const secret = "live-session-id-7f3c9a1e5b"
	if err := s.PutEphemeral(context.Background(), "session", secret, []byte("payload"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var keyHash string
	var leaks int
	err := pgAdmin(t).QueryRow(`SELECT key_hash, (SELECT count(*) FROM `+schema+`.ephemeral e
		WHERE strpos(e::text, $1) > 0) FROM `+schema+`.ephemeral`, secret).Scan(&keyHash, &leaks)
	if err != nil {
		t.Fatal(err)
	}
	if keyHash != store.EphemeralKeyHash("session", secret) || len(keyHash) != 64 {
		t.Errorf("key_hash = %q, want the SHA-256 hex of the kind and key", keyHash)
	}
	if leaks != 0 {
		t.Errorf("%d rows hold the ephemeral key in clear", leaks)
	}
}

// Replicas starting at once all open the same fresh schema: the advisory
// lock makes one migrate and the others find nothing pending, instead of
// racing on CREATE TABLE.
func TestPostgresConcurrentOpenMigratesOnce(t *testing.T) {
	dsn, schema := pgSchema(t)
	const replicas = 6
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	start := make(chan struct{})
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, err := store.OpenPostgres(context.Background(), dsn, time.Now)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	var n, max int
	if err := pgAdmin(t).QueryRow(`SELECT count(*), max(version) FROM `+schema+`.schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != max {
		t.Errorf("%d migrations recorded, highest %d; want each of 1..N once", n, max)
	}
}

func TestPostgresRefusesNewerSchema(t *testing.T) {
	dsn, schema := pgSchema(t)
	if err := openPostgres(t, dsn, time.Now).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := pgAdmin(t).Exec(`INSERT INTO ` + schema + `.schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenPostgres(context.Background(), dsn, time.Now)
	if err == nil {
		_ = s.Close()
		t.Fatal("OpenPostgres accepted a schema from a newer binary")
	}
	if !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("err = %v, want one naming the newer schema", err)
	}
}

// When the audit insert fails inside the transaction, the version it would
// have recorded is not stored either.
func TestPostgresPutConfigWithAuditRollsBackOnAuditFailure(t *testing.T) {
	dsn, schema := pgSchema(t)
	s := openPostgres(t, dsn, time.Now)
	ctx := context.Background()
	change := store.AuditEntry{Kind: store.AuditAdminChange, Result: store.AuditOK, Actor: "carol"}
	if _, err := s.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{"v":1}`)}, 0, change); err != nil {
		t.Fatal(err)
	}
	db := pgAdmin(t)
	for _, q := range []string{
		`CREATE FUNCTION ` + schema + `.audit_fails() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit disk full'; END $$`,
		`CREATE TRIGGER audit_fails BEFORE INSERT ON ` + schema + `.audit_log FOR EACH ROW EXECUTE FUNCTION ` + schema + `.audit_fails()`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{"v":2}`)}, 1, change)
	if err == nil {
		t.Fatal("PutConfigWithAudit succeeded although the audit insert failed")
	}
	var se *store.Error
	if !errors.As(err, &se) || se.Public() != "storage unavailable" || strings.Contains(se.Public(), "disk full") {
		t.Errorf("error %v: want a store.Error whose public message hides the cause", err)
	}
	if latest, err := s.LatestConfig(ctx); err != nil || latest.Version != 1 || string(latest.Doc) != `{"v":1}` {
		t.Errorf("after the failed write LatestConfig = %+v, %v; want version 1 unchanged", latest, err)
	}
	if _, err := db.Exec(`DROP TRIGGER audit_fails ON ` + schema + `.audit_log`); err != nil {
		t.Fatal(err)
	}
	if v, err := s.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{"v":2}`)}, 1, change); err != nil || v != 2 {
		t.Errorf("retry = %d, %v; want version 2", v, err)
	}
}

// Two stores on one schema stand in for two replicas (two connection
// pools): identity creation, one-time takes and config writes stay
// one-winner across them.
func TestPostgresTwoReplicas(t *testing.T) {
	dsn, _ := pgSchema(t)
	stores := []*store.PostgreSQL{openPostgres(t, dsn, time.Now), openPostgres(t, dsn, time.Now)}
	ctx := context.Background()
	const n = 20

	t.Run("identity", func(t *testing.T) {
		k := store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "alice"}
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
			t.Errorf("%d creators and %d distinct ids across two replicas, want 1 and 1", creators, len(ids))
		}
	})

	t.Run("take", func(t *testing.T) {
		if err := stores[0].PutEphemeral(ctx, "flow", "state-1", []byte("f"), time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		wins := make(chan bool, n)
		for i := range n {
			go func() {
				_, err := stores[i%2].TakeEphemeral(ctx, "flow", "state-1", time.Now())
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("TakeEphemeral: %v", err)
				}
				wins <- err == nil
			}()
		}
		won := 0
		for range n {
			if <-wins {
				won++
			}
		}
		if won != 1 {
			t.Errorf("%d takers across two replicas got the entry, want 1", won)
		}
	})

	t.Run("config", func(t *testing.T) {
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
					_, err = s.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(fmt.Sprintf(`{"writer":%d}`, i))}, latest,
						store.AuditEntry{Kind: store.AuditAdminChange, Result: store.AuditOK, Actor: fmt.Sprint(i)})
					if !errors.Is(err, store.ErrConflict) {
						errs <- err
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
		if v, err := stores[1].LatestConfig(ctx); err != nil || v.Version != n {
			t.Errorf("LatestConfig = %+v, %v; want version %d", v, err, n)
		}
		if entries, err := stores[0].ListAudit(ctx, store.AuditQuery{}); err != nil || len(entries) != n {
			t.Errorf("%d audit entries (%v), want %d", len(entries), err, n)
		}
	})
}

func TestPostgresOpenInvalid(t *testing.T) {
	const password = "hunter2-very-secret"
	tests := []struct {
		name string
		dsn  string
		now  func() time.Time
		kind error
	}{
		{"no dsn", "", time.Now, store.ErrInvalid},
		{"no clock", defaultTestPostgresDSN, nil, store.ErrInvalid},
		{"bad port", "postgres://u:" + password + "@127.0.0.1:99999999/db", time.Now, store.ErrInvalid},
		{"bad key=value", "host=127.0.0.1 password=" + password + " port=abc", time.Now, store.ErrInvalid},
		{"password with odd characters", "postgres://u:" + password + "%zz@127.0.0.1/db", time.Now, store.ErrInvalid},
		{"nobody listening", "postgres://u:" + password + "@127.0.0.1:1/db?connect_timeout=2", time.Now, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.OpenPostgres(context.Background(), tt.dsn, tt.now)
			if err == nil {
				_ = s.Close()
				t.Fatal("OpenPostgres succeeded")
			}
			if tt.kind != nil && !errors.Is(err, tt.kind) {
				t.Errorf("err = %v, want %v", err, tt.kind)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error repeats the password: %v", err)
			}
			if perr := store.ParsePostgresDSN(tt.dsn); perr != nil && strings.Contains(perr.Error(), password) {
				t.Errorf("ParsePostgresDSN repeats the password: %v", perr)
			}
		})
	}
}

func BenchmarkPostgres(b *testing.B) {
	pgAdmin(b)
	runBenchmarks(b, func(b *testing.B) store.Store {
		dsn, _ := pgSchema(b)
		return openPostgres(b, dsn, time.Now)
	})
}
