package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// fileReplica is a server whose mappings file is whatever load returns.
type fileReplica struct {
	srv  *Server
	mu   sync.Mutex
	file *config.File
	err  error
}

func (r *fileReplica) load() (*config.File, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.file, r.err
}

func (r *fileReplica) set(f *config.File, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.file, r.err = f, err
}

const testMappingsPath = "/etc/fedgate/fedgate.yaml"

// barrierStore, once armed, makes each replica's next read of the live
// version wait until every replica has read it: all of them then try to
// write on top of the same version.
type barrierStore struct {
	store.Store
	mu      sync.Mutex
	arrived *sync.WaitGroup // nil: not armed
}

func (b *barrierStore) arm(wg *sync.WaitGroup) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.arrived = wg
}

func (b *barrierStore) LatestConfig(ctx context.Context) (*store.ConfigVersion, error) {
	v, err := b.Store.LatestConfig(ctx)
	b.mu.Lock()
	wg := b.arrived
	b.arrived = nil
	b.mu.Unlock()
	if wg != nil {
		wg.Done()
		wg.Wait()
	}
	return v, err
}

// newFileReplica is a replica on h's store (through st) whose file starts
// as h's configuration.
func newFileReplica(t *testing.T, h *gwHarness, st store.Store) *fileReplica {
	t.Helper()
	r := &fileReplica{file: h.cfg}
	srv, err := New(context.Background(), Deps{Config: h.cfg, Store: st, Issuer: h.iss, Box: h.box, STS: h.sts,
		Upstream: upstreamClient(t, h.cfg, time.Second), Logger: h.log, Now: h.clock.Now, Rand: h.rand,
		File: core.ConfigFile{Path: testMappingsPath, Load: r.load}})
	if err != nil {
		t.Fatal(err)
	}
	r.srv = srv
	return r
}

// withRenamedPool is f with the solo pool's display name changed.
func withRenamedPool(t *testing.T, f *config.File, name string) *config.File {
	t.Helper()
	g := *f
	g.Pools = append([]config.Pool(nil), f.Pools...)
	g.Pools[1].DisplayName = name
	return &g
}

// Under mappings.source: file every reload applies a changed file: two
// replicas that see the same edit at once make one new version, with its
// audit entry; an unchanged file writes nothing; a file that does not
// validate is refused loudly while the live version serves on, and /readyz
// stays ready with a warning.
func TestMappingsFileAppliedOnReload(t *testing.T) {
	ctx := context.Background()
	h := newGWHarness(t, func(f *config.File) { f.MappingsSource.Source = config.MappingsFromFile })
	sa, sb := &barrierStore{Store: h.store}, &barrierStore{Store: h.store}
	a, b := newFileReplica(t, h, sa), newFileReplica(t, h, sb)
	versions := func() int64 { return h.state().configVersion }

	// Unchanged: nothing written.
	for _, r := range []*fileReplica{a, b} {
		if err := r.srv.core.ApplyMappingsFile(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v := versions(); v != 1 {
		t.Fatalf("an unchanged file made version %d", v)
	}

	// Changed on both replicas at once: both read version 1 before either
	// writes (barrierStore); one version results.
	var arrived sync.WaitGroup
	arrived.Add(2)
	sa.arm(&arrived)
	sb.arm(&arrived)
	edited := withRenamedPool(t, h.cfg, "Solo from the file")
	a.set(edited, nil)
	b.set(edited, nil)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, r := range []*fileReplica{a, b} {
		wg.Go(func() { errs[i] = r.srv.core.ApplyMappingsFile(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if v := versions(); v != 2 {
		t.Fatalf("two replicas applying one edit: latest version %d, want 2", v)
	}
	live, err := h.store.LatestConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if live.Source != core.SourceFile || live.Author != "file:"+testMappingsPath {
		t.Errorf("version 2: source %q author %q", live.Source, live.Author)
	}
	entries, err := h.store.ListAudit(ctx, store.AuditQuery{Kind: store.AuditAdminChange})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Actor != "file:"+testMappingsPath || entries[0].Version != 2 {
		t.Errorf("audit of the applied file: %+v", entries)
	}
	for _, r := range []*fileReplica{a, b} {
		if err := r.srv.core.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if p := r.srv.core.Snapshot().Pools["solo"]; p == nil || p.Cfg.DisplayName != "Solo from the file" {
			t.Errorf("the edit is not live on a replica: %+v", p)
		}
	}

	// Invalid: refused with an ERROR, once; the live version stays.
	h.logs.Reset()
	broken := withRenamedPool(t, h.cfg, "Broken")
	broken.Pools[1].Rules = append(broken.Pools[1].Rules[:0:0], broken.Pools[1].Rules...)
	broken.Pools[1].Rules[0].Role = "not-an-arn"
	a.set(broken, nil)
	for range 3 {
		if err := a.srv.core.ApplyMappingsFile(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v := versions(); v != 2 {
		t.Errorf("an invalid file made version %d", v)
	}
	if n := strings.Count(h.logs.String(), "mappings file refused"); n != 1 || !strings.Contains(h.logs.String(), `"level":"ERROR"`) {
		t.Errorf("%d refusal lines, want 1 ERROR:\n%s", n, h.logs.String())
	}
	if !a.srv.core.MappingsFileRefused() {
		t.Error("the refusal is not reported")
	}
	w := httptest.NewRecorder()
	a.srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"warning":"the mappings file is refused`) {
		t.Errorf("/readyz with a refused file: HTTP %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	a.srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{"fedgate_mappings_file_refused 1", "fedgate_mappings_file_refusals_total 1"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	a.set(nil, config.Problems{{Path: "pools", Message: "not a list"}}) // a file that does not parse
	if err := a.srv.core.ApplyMappingsFile(ctx); err != nil || versions() != 2 {
		t.Errorf("a file that does not parse: %v, version %d", err, versions())
	}

	// Fixed: applied, and the warning is gone.
	a.set(withRenamedPool(t, h.cfg, "Solo fixed"), nil)
	if err := a.srv.core.ApplyMappingsFile(ctx); err != nil {
		t.Fatal(err)
	}
	if v := versions(); v != 3 || a.srv.core.MappingsFileRefused() {
		t.Errorf("the fixed file: version %d, refused %v", v, a.srv.core.MappingsFileRefused())
	}
}

// Under mappings.source: store a reload never reads the file.
func TestMappingsFileIgnoredUnderStoreSource(t *testing.T) {
	h := newGWHarness(t)
	r := newFileReplica(t, h, h.store)
	r.set(withRenamedPool(t, h.cfg, "Not applied"), nil)
	if err := r.srv.core.ApplyMappingsFile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := h.state().configVersion; v != 1 {
		t.Errorf("mappings.source: store applied the file as version %d", v)
	}
}
