package gateway

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"fedgate/exchange/secret"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// racingStore makes every replica's first read of the live configuration
// wait until all replicas have read it, so all of them see an empty store
// and race to write version 1: the interleaving that replicas starting at
// once can hit.
type racingStore struct {
	store.Store
	once    sync.Once
	arrived *sync.WaitGroup
}

func (r *racingStore) LatestConfig(ctx context.Context) (*store.ConfigVersion, error) {
	v, err := r.Store.LatestConfig(ctx)
	r.once.Do(func() { r.arrived.Done(); r.arrived.Wait() })
	return v, err
}

// Replicas starting at once on one empty store all seed the same file: one
// writes version 1, the others find it instead of failing on the conflict.
func TestSeedConcurrentReplicas(t *testing.T) {
	h := newGWHarness(t)
	path := filepath.Join(t.TempDir(), "shared.db")
	key := make([]byte, secret.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	const replicas = 8
	type result struct {
		v   int64
		err error
	}
	results := make(chan result, replicas)
	start := make(chan struct{})
	var arrived sync.WaitGroup
	arrived.Add(replicas)
	for range replicas {
		st, err := store.OpenSQLite(context.Background(), path, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		box, err := secret.NewBox(key, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			<-start
			v, err := core.Seed(context.Background(), &racingStore{Store: st, arrived: &arrived}, box, h.cfg, h.log)
			results <- result{v, err}
		}()
	}
	close(start)
	for range replicas {
		if r := <-results; r.err != nil || r.v != 1 {
			t.Errorf("Seed = %d, %v; want version 1 for every replica", r.v, r.err)
		}
	}
}
