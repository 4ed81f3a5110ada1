package gateway

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fedgate/exchange/rules"
	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

func TestSeed(t *testing.T) {
	ctx := context.Background()
	h := newGWHarness(t) // seeds version 1
	latest := func() (int64, string) {
		v, err := h.store.LatestConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v.Version, v.Source
	}
	if v, src := latest(); v != 1 || src != core.SourceFile {
		t.Fatalf("first seed: version %d source %q, want 1 %q", v, src, core.SourceFile)
	}
	// Same file again: same version, nothing written.
	for range 2 {
		v, err := core.Seed(ctx, h.store, h.box, h.cfg, h.log)
		if err != nil || v != 1 {
			t.Fatalf("same file: version %d, %v", v, err)
		}
	}
	// mappings.source store (the default): a changed file is not applied,
	// loudly, naming the live version.
	changed := *h.cfg
	changed.Pools = append([]config.Pool(nil), h.cfg.Pools...)
	changed.Pools[1].DisplayName = "Solo, renamed"
	h.logs.Reset()
	if v, err := core.Seed(ctx, h.store, h.box, &changed, h.log); err != nil || v != 1 {
		t.Fatalf("changed file, source store: version %d, %v; want 1 kept", v, err)
	}
	warns := h.logs.AtLevel(t, "WARN")
	if len(warns) != 1 || !strings.Contains(warns[0]["msg"].(string), "NOT applied") || warns[0]["live_version"] != float64(1) {
		t.Errorf("want one warning that the file is not applied, naming version 1:\n%s", h.logs)
	}
	same, live, err := core.FileMappingsState(ctx, h.store, h.box, &changed)
	if err != nil || same || live.Version != 1 {
		t.Errorf("FileMappingsState(changed) = %v, %+v, %v", same, live, err)
	}
	// mappings.source file: the changed file becomes version 2, and it
	// replaces an admin's version too, loudly.
	changed.MappingsSource.Source = config.MappingsFromFile
	if v, err := core.Seed(ctx, h.store, h.box, &changed, h.log); err != nil || v != 2 {
		t.Fatalf("changed file, source file: version %d, %v", v, err)
	}
	admin := h.putMappings(h.cfg.Mappings(), "admin")
	h.logs.Reset()
	v, err := core.Seed(ctx, h.store, h.box, &changed, h.log)
	if err != nil || v != admin+1 {
		t.Fatalf("file over an admin version: got %d, %v; want %d", v, err, admin+1)
	}
	if cur, src := latest(); cur != admin+1 || src != core.SourceFile {
		t.Errorf("latest is %d from %q after the file replaced an admin edit", cur, src)
	}
	warns = h.logs.AtLevel(t, "WARN")
	if len(warns) != 1 || !strings.Contains(warns[0]["msg"].(string), "replaces the mappings edited at run time") {
		t.Errorf("want one warning about the replaced run-time edit:\n%s", h.logs)
	}
	if same, _, _ := core.FileMappingsState(ctx, h.store, h.box, &changed); !same {
		t.Error("FileMappingsState after seeding: not the same")
	}
}

// A new configuration version in the store reaches requests on reload,
// without a restart; a broken version is refused and the old one kept.
func TestLiveReload(t *testing.T) {
	h := newGWHarness(t)
	m := h.cfg.Mappings()
	pools := append([]config.Pool(nil), m.Pools...)
	pools = append(pools, config.Pool{
		ID: "us-west-2:11111111-2222-4333-8444-555555555555", Name: "late", DisplayName: "Late pool",
		Providers: []string{"demo", "app"}, OwnIssuer: true,
		Rules: []rules.RuleSpec{{Name: "any", Match: []rules.Condition{{Claim: "sub", Op: "exists"}}, Role: "arn:aws:iam::123456789012:role/late"}},
	})
	if w := h.api(gwTokenBob, `{"pool":"late"}`); w.Code != http.StatusNotFound {
		t.Fatalf("before reload: %d", w.Code)
	}
	v := h.putMappings(config.Mappings{Providers: m.Providers, Pools: pools}, "admin")
	h.reload()
	if h.srv.core.Snapshot().Version != v {
		t.Fatalf("snapshot version %d, want %d", h.srv.core.Snapshot().Version, v)
	}
	w := h.api(gwTokenBob, `{"pool":"late"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("after reload: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(w.Body.String(), `"identity_id":"us-west-2:`) {
		t.Errorf("identity not in the new pool's region: %s", w.Body)
	}
	if w := h.do(httptest.NewRequest(http.MethodGet, "/pools/late/.well-known/openid-configuration", nil)); w.Code != http.StatusOK {
		t.Errorf("new pool's issuer: %d", w.Code)
	}
	if w := h.do(httptest.NewRequest(http.MethodGet, "/", nil)); !strings.Contains(w.Body.String(), "Late pool") {
		t.Error("index does not list the new pool")
	}

	// A version that fails validation is not applied.
	bad := append([]config.Pool(nil), pools...)
	bad[0].Rules = []rules.RuleSpec{{Name: "broken", Match: []rules.Condition{{Claim: "groups", Op: "regex", Value: "("}}, Role: gwAdmin}}
	h.putMappings(config.Mappings{Providers: m.Providers, Pools: bad}, "admin")
	if err := h.srv.core.Reload(context.Background()); err == nil {
		t.Fatal("a broken configuration was loaded")
	}
	if h.srv.core.Snapshot().Version != v {
		t.Errorf("snapshot moved to a broken version")
	}
	if w := h.api(gwTokenBob, `{"pool":"late"}`); w.Code != http.StatusOK {
		t.Errorf("previous configuration not kept: %d", w.Code)
	}
}

// The watch loop (what Serve runs) picks a change up by itself.
func TestWatchReloads(t *testing.T) {
	h := newGWHarness(t, func(f *config.File) { f.Server.ReloadInterval = config.Duration(10 * time.Millisecond) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.srv.core.Watch(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	m := h.cfg.Mappings()
	pools := append([]config.Pool(nil), m.Pools...)
	pools[1].DisplayName = "Solo v2"
	v := h.putMappings(config.Mappings{Providers: m.Providers, Pools: pools}, "admin")
	for i := 0; i < 500 && h.srv.core.Snapshot().Version != v; i++ {
		select {
		case <-done:
			t.Fatal("watch stopped")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if h.srv.core.Snapshot().Version != v {
		t.Fatal("watch never loaded the new version")
	}
}

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
