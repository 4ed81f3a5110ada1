package main

// Two replicas on one PostgreSQL schema, each caching identity ids: an
// identity deleted or rebound in the store (which moves the store's
// identity generation in the same transaction) stops being served by every
// replica within server.reload_interval.

import (
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver, to change the store as another replica would

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/testkit"
)

func TestEndToEndIdentityCacheAcrossReplicas(t *testing.T) {
	dsn := peers.PostgresSchema(t)
	a := startEnv(t, withPostgres(dsn))
	b := a.replica()
	token := a.token("alice", e2eClientID, 10*time.Minute)
	identity := func(r *env) string {
		t.Helper()
		res := r.api(token, map[string]any{"pool": "team"})
		id, _ := res.body["identity_id"].(string)
		if res.status != 200 || id == "" {
			t.Fatalf("vend on %s: %d %v", r.url, res.status, res.body)
		}
		return id
	}
	old := identity(a)
	if got := identity(b); got != old {
		t.Fatalf("replicas disagree on alice: %s and %s", old, got)
	}

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Without the generation moving, the rows alone are not re-read: the
	// replicas serve alice from their caches (the store is off the path).
	if _, err := db.Exec(`DELETE FROM identities WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}
	if got := identity(b); got != old {
		t.Fatalf("B re-read the store at once (%s): is the cache on?", got)
	}
	// The store-level delete moves the generation in its transaction ...
	if _, err := db.Exec(`UPDATE store_counters SET value = value + 1 WHERE name = 'identity_generation'`); err != nil {
		t.Fatal(err)
	}
	moved := time.Now()
	// ... and both replicas drop the deleted identity within the reload
	// interval (1 s here), agreeing on the new one.
	var fresh string
	if !testkit.Eventually(5*time.Second, 100*time.Millisecond, func() bool { fresh = identity(b); return fresh != old }) {
		t.Fatalf("B still serves the deleted identity %s 5 s after the generation moved", old)
	}
	t.Logf("B dropped the deleted identity %.1fs after the generation moved (reload_interval 1s)", time.Since(moved).Seconds())
	if !testkit.Eventually(5*time.Second, 100*time.Millisecond, func() bool { return identity(a) == fresh }) {
		t.Errorf("A does not serve the new identity %s", fresh)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM identities WHERE id = $1`, fresh).Scan(&n); err != nil || n != 1 {
		t.Errorf("the new identity is not stored once (%d, %v)", n, err)
	}
}
