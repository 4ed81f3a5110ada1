package peers

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"fedgate/gateway/store/storetest"
)

// DefaultPostgresDSN is the local PostgreSQL of these machines (trust auth on
// 127.0.0.1); FEDGATE_TEST_POSTGRES_DSN points the tests elsewhere.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PostgresSchema creates an empty schema for one test in the test
// PostgreSQL, drops it when the test ends, and returns a DSN whose
// search_path is that schema. Unreachable: Required (a failure under CI).
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv("FEDGATE_TEST_POSTGRES_DSN")
	if base == "" {
		base = DefaultPostgresDSN
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("FEDGATE_TEST_POSTGRES_DSN: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		Required(t, "PostgreSQL at FEDGATE_TEST_POSTGRES_DSN or "+DefaultPostgresDSN+": "+err.Error())
		return ""
	}
	return storetest.PostgresSchema(ctx, t, db, base, "e2e_")
}
