package core

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/config"
	"fedgate/gateway/store"
	"fedgate/gateway/testkit"
	"fedgate/idp"
)

// A cached identity is served without the store until the store's
// identity generation moves (a delete or a link on any replica), and
// never stored when an invalidation raced with its lookup.
func TestIdentityCacheFollowsTheStoreGeneration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fedgate.db")
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	st, err := store.OpenSQLite(ctx, path, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := &Core{store: st, now: func() time.Time { return now }, rand: testkit.NewRand(1), log: slog.New(slog.DiscardHandler), identities: newIdentityCache()}
	p := &Principal{
		Pool:     &Pool{Cfg: config.Pool{ID: "us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11"}},
		Provider: &Provider{Cfg: config.Provider{ID: "corp"}},
		Ident:    &idp.Identity{Subject: "alice"},
	}
	first, err := c.IdentityID(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	// Another replica deletes the identity (as identity deletion or
	// linking does in the store) ...
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM identities WHERE id = $1`, first); err != nil {
		t.Fatal(err)
	}
	// ... this replica still serves its cache until the generation moves.
	if id, _ := c.IdentityID(ctx, p); id != first {
		t.Fatalf("before the generation moved: %s, want the cached %s", id, first)
	}
	if _, err := st.BumpIdentityGeneration(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.syncIdentityGeneration(ctx); err != nil {
		t.Fatal(err)
	}
	second, err := c.IdentityID(ctx, p)
	if err != nil || second == first || !strings.HasPrefix(second, "us-east-1:") {
		t.Fatalf("after the generation moved: %s, %v; want a new identity", second, err)
	}
	if rec, err := c.LookupIdentity(ctx, first); err == nil {
		t.Errorf("the deleted identity is still found: %+v", rec)
	}

	// A lookup that began before an invalidation does not fill the cache.
	k := store.IdentityKey{PoolID: p.Pool.Cfg.ID, Provider: "corp", Subject: "bob"}
	gen := c.identities.generation()
	c.IdentitiesChanged()
	c.identities.putID(gen, k, "us-east-1:stale", now)
	if id, ok := c.identities.id(k, now); ok {
		t.Errorf("an entry fetched before the invalidation was kept: %s", id)
	}
	// Entries are revisited after identityCacheRefresh.
	c.identities.putID(c.identities.generation(), k, "us-east-1:fresh", now)
	if _, ok := c.identities.id(k, now.Add(identityCacheRefresh)); ok {
		t.Error("an entry older than identityCacheRefresh was served")
	}
}

func TestIdentityCacheIsBounded(t *testing.T) {
	c := newIdentityCache()
	now := time.Now()
	for i := range identityCacheMax + 10 {
		c.putID(c.generation(), store.IdentityKey{Subject: strconv.Itoa(i)}, "id", now)
	}
	if n := len(c.byKey); n > identityCacheMax {
		t.Errorf("%d entries, want at most %d", n, identityCacheMax)
	}
}
