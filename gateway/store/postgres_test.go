package store_test

import (
	"context"
	"database/sql"
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
func pgSchema(t testing.TB) string {
	t.Helper()
	return storetest.PostgresSchema(context.Background(), t, pgAdmin(t), testPostgresDSN(), "t_")
}

// postgresDB is a database in a new schema of its own; raw connects with
// the same search_path, so it names the tables as the store does.
func postgresDB(t testing.TB) database {
	dsn := pgSchema(t)
	return database{
		t: t,
		dial: func(ctx context.Context, now func() time.Time) (store.Store, error) {
			return store.OpenPostgres(ctx, dsn, now)
		},
		raw: rawSQL(t, "pgx", dsn),
	}
}

func TestPostgresConformance(t *testing.T) {
	pgAdmin(t)
	conformance(t, postgresDB)
}

func TestPostgresConformanceWallClock(t *testing.T) {
	pgAdmin(t)
	conformanceWallClock(t, postgresDB)
}

func TestPostgresEphemeralKeysAreHashed(t *testing.T) {
	db := postgresDB(t)
	putsEphemeralKeyHashed(t, db)
	var leaks int
	if err := db.raw.QueryRow(`SELECT count(*) FROM ephemeral e WHERE strpos(e::text, $1) > 0`, ephemeralSecret).Scan(&leaks); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 {
		t.Errorf("%d rows hold the ephemeral key in clear", leaks)
	}
}

// Replicas starting at once all open the same fresh schema: the advisory
// lock makes one migrate and the others find nothing pending, instead of
// racing on CREATE TABLE.
func TestPostgresConcurrentOpenMigratesOnce(t *testing.T) {
	db := postgresDB(t)
	errs := storetest.Parallel(6, func(int) error {
		s, err := db.dial(context.Background(), time.Now)
		if err == nil {
			err = s.Close()
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	migrationsRecorded(t, db)
}

func TestPostgresRefusesNewerSchema(t *testing.T) { refusesNewerSchema(t, postgresDB(t)) }

// When the audit insert fails, the version is not stored either.
func TestPostgresPutConfigWithAuditRollsBackOnAuditFailure(t *testing.T) {
	auditFailureRollsBack(t, postgresDB(t), []string{
		`CREATE FUNCTION audit_fails() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit disk full'; END $$`,
		`CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_fails()`,
	}, `DROP TRIGGER audit_fails ON audit_log`)
}

// Two stores on one schema stand in for two replicas (two connection
// pools): identity creation, one-time takes and config writes stay
// one-winner across them.
func TestPostgresTwoReplicas(t *testing.T) {
	stores := twoStores(postgresDB(t))
	t.Run("identity", func(t *testing.T) { replicasCreateOneIdentity(t, stores) })
	t.Run("take", func(t *testing.T) { replicasTakeOnce(t, stores) })
	t.Run("config", func(t *testing.T) { replicasConfigWriters(t, stores, true) })
}

func TestPostgresOpenInvalid(t *testing.T) {
	const password = "hunter2-very-secret"
	opensRefused(t, store.OpenPostgres, []badOpen{
		{"no dsn", "", time.Now, store.ErrInvalid},
		{"no clock", defaultTestPostgresDSN, nil, store.ErrInvalid},
		{"bad port", "postgres://u:" + password + "@127.0.0.1:99999999/db", time.Now, store.ErrInvalid},
		{"bad key=value", "host=127.0.0.1 password=" + password + " port=abc", time.Now, store.ErrInvalid},
		{"password with odd characters", "postgres://u:" + password + "%zz@127.0.0.1/db", time.Now, store.ErrInvalid},
		{"nobody listening", "postgres://u:" + password + "@127.0.0.1:1/db?connect_timeout=2", time.Now, nil},
	}, func(t *testing.T, c badOpen, err error) {
		if strings.Contains(err.Error(), password) {
			t.Errorf("error repeats the password: %v", err)
		}
		if perr := store.ParsePostgresDSN(c.where); perr != nil && strings.Contains(perr.Error(), password) {
			t.Errorf("ParsePostgresDSN repeats the password: %v", perr)
		}
	})
}

func BenchmarkPostgres(b *testing.B) {
	pgAdmin(b)
	runBenchmarks(b, func(b *testing.B) store.Store { return postgresDB(b).open(time.Now) })
}
