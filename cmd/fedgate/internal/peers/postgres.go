package peers

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
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
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "e2e_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("dropping test schema %s: %v", schema, err)
		}
	})
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		return base + sep + "search_path=" + schema
	}
	return base + " search_path=" + schema
}
