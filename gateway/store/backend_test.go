package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/store"
	"fedgate/gateway/store/storetest"
)

// The bodies here are the tests every backend runs besides the conformance
// suite; each backend's file binds them to a database of its own kind.

// database is one fresh, empty database of the backend under test.
type database struct {
	t testing.TB
	// dial opens a store on the database.
	dial func(ctx context.Context, now func() time.Time) (store.Store, error)
	// raw reaches the same tables behind the stores' back, to look at what
	// they wrote or to break them on purpose. It opens lazily.
	raw *sql.DB
}

// open opens a store on the database, closed when the test ends.
func (d database) open(now func() time.Time) store.Store {
	d.t.Helper()
	s, err := d.dial(context.Background(), now)
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawSQL opens a plain connection pool, closed when the test ends.
func rawSQL(t testing.TB, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// conformance runs the suite on the store's clock, reopening included;
// fresh makes an empty database for each case.
func conformance(t *testing.T, fresh func(t testing.TB) database) {
	clock := storetest.NewClock()
	storetest.Run(t,
		func(t *testing.T) store.Store { return fresh(t).open(clock.Now) },
		storetest.WithClock(clock),
		storetest.WithReopen(func(t *testing.T) func() store.Store {
			db := fresh(t)
			return func() store.Store { return db.open(clock.Now) }
		}),
	)
}

// conformanceWallClock runs the suite again on stores that give it no
// clock to drive: it must also hold on the wall clock.
func conformanceWallClock(t *testing.T, fresh func(t testing.TB) database) {
	if testing.Short() {
		t.Skip("second full pass")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return fresh(t).open(time.Now) })
}

// badOpen is an open that must fail, with an error of kind (of any kind
// when kind is nil).
type badOpen struct {
	name  string
	where string // the path or connection string
	now   func() time.Time
	kind  error
}

// opensRefused runs each bad open as a subtest; check, when not nil, looks
// further at the error.
func opensRefused[S io.Closer](t *testing.T, open func(context.Context, string, func() time.Time) (S, error),
	cases []badOpen, check func(t *testing.T, c badOpen, err error)) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := open(context.Background(), c.where, c.now)
			if err == nil {
				_ = s.Close()
				t.Fatal("open succeeded")
			}
			if c.kind != nil && !errors.Is(err, c.kind) {
				t.Errorf("err = %v, want %v", err, c.kind)
			}
			if check != nil {
				check(t, c, err)
			}
		})
	}
}

// ephemeralSecret stands for a live session id, which must never be stored
// in clear.
const ephemeralSecret = "live-session-id-7f3c9a1e5b"

// putsEphemeralKeyHashed stores an entry under ephemeralSecret and checks
// its row holds the key's hash.
func putsEphemeralKeyHashed(t *testing.T, db database) {
	t.Helper()
	s := db.open(time.Now)
	if err := s.PutEphemeral(context.Background(), "session", ephemeralSecret, []byte("payload"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var keyHash string
	if err := db.raw.QueryRow(`SELECT key_hash FROM ephemeral`).Scan(&keyHash); err != nil {
		t.Fatal(err)
	}
	if keyHash != store.EphemeralKeyHash("session", ephemeralSecret) || len(keyHash) != 64 {
		t.Errorf("key_hash = %q, want the SHA-256 hex of the kind and key", keyHash)
	}
}

// migrationsRecorded checks schema_migrations holds each version 1..N once
// and returns N.
func migrationsRecorded(t *testing.T, db database) int {
	t.Helper()
	var n, highest int
	if err := db.raw.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &highest); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != highest {
		t.Fatalf("%d migrations recorded, highest %d; want each of 1..N once", n, highest)
	}
	return n
}

// refusesNewerSchema: a database migrated by a newer binary is refused
// rather than misread.
func refusesNewerSchema(t *testing.T, db database) {
	if err := db.open(time.Now).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.raw.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	s, err := db.dial(context.Background(), time.Now)
	if err == nil {
		_ = s.Close()
		t.Fatal("open accepted a schema from a newer binary")
	}
	if !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("err = %v, want one naming the newer schema", err)
	}
}

// auditFailureRollsBack: when the audit insert fails inside the
// transaction, the version it would have recorded is not stored either
// (version and audit entry are one unit). breakAudit makes the audit insert
// fail behind the store's back; mendAudit undoes it.
func auditFailureRollsBack(t *testing.T, db database, breakAudit []string, mendAudit string) {
	s, ctx := db.open(time.Now), context.Background()
	change := store.AuditEntry{Kind: store.AuditAdminChange, Result: store.AuditOK, Actor: "carol"}
	if _, err := s.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{"v":1}`)}, 0, change); err != nil {
		t.Fatal(err)
	}
	for _, q := range breakAudit {
		if _, err := db.raw.Exec(q); err != nil {
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
	if _, err := db.raw.Exec(mendAudit); err != nil {
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

// Two stores on one database stand in for two replicas or processes: the
// one-winner guarantees must hold across them, not only within one store.
// The racers alternate between the two.

const racers = 20

func twoStores(db database) [2]store.Store {
	return [2]store.Store{db.open(time.Now), db.open(time.Now)}
}

func replicasCreateOneIdentity(t *testing.T, stores [2]store.Store) {
	k := store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "alice"}
	type result struct {
		id      string
		created bool
		err     error
	}
	results := storetest.Parallel(racers, func(i int) result {
		id, created, err := stores[i%2].GetOrCreateIdentity(context.Background(), k, fmt.Sprintf("r:%d", i))
		return result{id, created, err}
	})
	creators, ids := 0, map[string]bool{}
	for _, r := range results {
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

func replicasTakeOnce(t *testing.T, stores [2]store.Store) {
	ctx := context.Background()
	if err := stores[0].PutEphemeral(ctx, "flow", "state-1", []byte("f"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	wins := storetest.Parallel(racers, func(i int) bool {
		_, err := stores[i%2].TakeEphemeral(ctx, "flow", "state-1", time.Now())
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TakeEphemeral: %v", err)
		}
		return err == nil
	})
	won := 0
	for _, w := range wins {
		if w {
			won++
		}
	}
	if won != 1 {
		t.Errorf("%d takers across two stores got the entry, want 1", won)
	}
}

// replicasConfigWriters has every writer retry on conflict until its
// version lands, through PutConfigWithAudit when withAudit, else PutConfig.
// Both are a read-then-write transaction, which must queue across stores
// rather than fail.
func replicasConfigWriters(t *testing.T, stores [2]store.Store, withAudit bool) {
	ctx := context.Background()
	errs := storetest.Parallel(racers, func(i int) error {
		s := stores[i%2]
		for {
			var latest int64
			v, err := s.LatestConfig(ctx)
			switch {
			case err == nil:
				latest = v.Version
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			doc := store.ConfigVersion{Doc: []byte(fmt.Sprintf(`{"writer":%d}`, i))}
			if withAudit {
				_, err = s.PutConfigWithAudit(ctx, doc, latest,
					store.AuditEntry{Kind: store.AuditAdminChange, Result: store.AuditOK, Actor: fmt.Sprint(i)})
			} else {
				_, err = s.PutConfig(ctx, doc, latest)
			}
			if !errors.Is(err, store.ErrConflict) {
				return err // nil on success
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Errorf("writer failed: %v", err)
		}
	}
	for _, s := range stores {
		if v, err := s.LatestConfig(ctx); err != nil || v.Version != racers {
			t.Errorf("LatestConfig = %+v, %v; want version %d", v, err, racers)
		}
	}
	if !withAudit {
		return
	}
	if entries, err := stores[0].ListAudit(ctx, store.AuditQuery{}); err != nil || len(entries) != racers {
		t.Errorf("%d audit entries (%v), want %d", len(entries), err, racers)
	}
}
