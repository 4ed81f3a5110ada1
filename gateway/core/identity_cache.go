package core

import (
	"context"
	"sync"
	"time"

	"fedgate/gateway/store"
)

// The identity cache takes the store off the hot path for people who sign
// in again: their (pool, provider, subject) maps to the same id for as long
// as the identity exists. It is correct across replicas through the
// store's identity generation, which every change that deletes or rebinds
// an identity moves in its own transaction: each replica polls it with
// the configuration (server.reload_interval) and drops its cache when it
// has moved, and the replica that made the change drops it at once
// (IdentitiesChanged). An entry is also revisited after
// identityCacheRefresh, so the store's last_seen_at stays as fresh as
// without the cache.
const (
	identityCacheMax     = 100_000
	identityCacheRefresh = 50 * time.Second
)

type identityCache struct {
	mu    sync.Mutex
	gen   cacheGen // what the entries belong to
	byKey map[store.IdentityKey]cachedIdentity
	byID  map[string]cachedRecord
}

// cacheGen is the store's identity generation and the count of local
// invalidations: entries fetched under another cacheGen are never stored.
type cacheGen struct{ store, local int64 }

type cachedIdentity struct {
	id      string
	fetched time.Time
}

type cachedRecord struct {
	rec     store.IdentityRecord
	fetched time.Time
}

func newIdentityCache() *identityCache {
	return &identityCache{byKey: map[store.IdentityKey]cachedIdentity{}, byID: map[string]cachedRecord{}}
}

// generation is the generation a lookup starts under; put stores its
// result only if no invalidation happened meanwhile.
func (c *identityCache) generation() cacheGen {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *identityCache) id(k store.IdentityKey, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[k]
	if !ok || now.Sub(e.fetched) >= identityCacheRefresh {
		return "", false
	}
	return e.id, true
}

func (c *identityCache) record(id string, now time.Time) (*store.IdentityRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok || now.Sub(e.fetched) >= identityCacheRefresh {
		return nil, false
	}
	rec := e.rec
	return &rec, true
}

func (c *identityCache) putID(gen cacheGen, k store.IdentityKey, id string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.byKey) >= identityCacheMax {
		evictOne(c.byKey)
	}
	c.byKey[k] = cachedIdentity{id: id, fetched: now}
}

func (c *identityCache) putRecord(gen cacheGen, rec *store.IdentityRecord, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.byID) >= identityCacheMax {
		evictOne(c.byID)
	}
	c.byID[rec.ID] = cachedRecord{rec: *rec, fetched: now}
}

// evictOne drops an arbitrary entry (map iteration order is random):
// cheap, and enough to keep the cache bounded.
func evictOne[K comparable, V any](m map[K]V) {
	for k := range m {
		delete(m, k)
		return
	}
}

// advance moves the cache to the store's generation gen, dropping every
// entry when it has moved.
func (c *identityCache) advance(gen int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen.store {
		return
	}
	c.gen.store = gen
	c.clearLocked()
}

// invalidate drops every entry.
func (c *identityCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.local++
	c.clearLocked()
}

func (c *identityCache) clearLocked() {
	clear(c.byKey)
	clear(c.byID)
}

// IdentitiesChanged drops this replica's cached identities at once. Code
// that deletes or relinks identities calls it after the store change (which
// moves the store's identity generation for the other replicas).
func (s *Core) IdentitiesChanged() { s.identities.invalidate() }

// syncIdentityGeneration drops the cache when another replica has changed
// identities since the last poll.
func (s *Core) syncIdentityGeneration(ctx context.Context) error {
	gen, err := s.store.IdentityGeneration(ctx)
	if err != nil {
		return err
	}
	s.identities.advance(gen)
	return nil
}
