package core

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"fedgate/exchange"
	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/idp"
)

// Snapshot is the live, immutable view of providers and pools that the
// request path reads; a change builds a new one and swaps it in whole.
type Snapshot struct {
	Version   int64
	Providers map[string]*Provider
	Pools     map[string]*Pool // by id and by name
	Ordered   []*Pool
}

// Provider is a live provider: its configuration and the opened provider.
type Provider struct {
	Cfg config.Provider
	idp.Provider
}

// Pool is a live pool: its configuration, compiled rules, providers,
// exchange mode and the issuer its tokens carry.
type Pool struct {
	Cfg       config.Pool
	Mapping   *rules.Mapping
	Providers []*Provider
	Mode      exchange.Mode
	// Spec describes the mode: what it forwards, allows and needs.
	// Resolved once per snapshot: the vend path reads it.
	Spec      exchange.ModeSpec
	IssuerURL string
}

// Provider is the pool's provider id, or nil when the pool does not
// accept it.
func (p *Pool) Provider(id string) *Provider {
	for _, lp := range p.Providers {
		if lp.Cfg.ID == id {
			return lp
		}
	}
	return nil
}

// BuildSnapshot compiles a mappings document. It validates exactly as
// `fedgate check` does, so a bad stored document is refused, not half-used.
func (s *Core) BuildSnapshot(ctx context.Context, version int64, m config.Mappings) (*Snapshot, error) {
	f := *s.cfg
	f.Providers, f.Pools = m.Providers, m.Pools
	f.ApplyDefaults()
	if problems := f.Validate(); len(problems) > 0 {
		return nil, problems
	}
	snap := &Snapshot{Version: version, Providers: map[string]*Provider{}, Pools: map[string]*Pool{}}
	for _, pc := range f.Providers {
		p, err := pc.Settings.Open(ctx, idp.Env{
			Site: idp.Site{ID: pc.ID, PublicURL: f.Server.PublicURL}, DisplayName: pc.DisplayName,
			HTTP: s.upstreamClient, Now: s.now, Rand: s.rand,
			Replay: samlReplay{st: s.store, now: s.now, provider: pc.ID},
		})
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", pc.ID, err)
		}
		snap.Providers[pc.ID] = &Provider{Cfg: pc, Provider: p}
	}
	for _, pc := range f.Pools {
		spec := pc.RulesSpec()
		spec.RoleFlavor = f.STS.Flavor
		mapping, problems := rules.Compile(spec)
		if len(problems) > 0 {
			return nil, fmt.Errorf("pool %s: %v", pc.ID, problems)
		}
		m := s.modes[pc.Mode]
		lp := &Pool{Cfg: pc, Mapping: mapping, Mode: m.mode, Spec: m.spec, IssuerURL: f.IssuerURL(&pc)}
		for _, id := range pc.Providers {
			lp.Providers = append(lp.Providers, snap.Providers[id])
		}
		snap.Pools[pc.ID] = lp
		snap.Pools[pc.Name] = lp
		snap.Ordered = append(snap.Ordered, lp)
	}
	sort.SliceStable(snap.Ordered, func(i, j int) bool { return snap.Ordered[i].Cfg.DisplayName < snap.Ordered[j].Cfg.DisplayName })
	return snap, nil
}

// Reload reads the live configuration from the store and swaps in a new
// snapshot when its version changed.
func (s *Core) Reload(ctx context.Context) error {
	v, err := s.store.LatestConfig(ctx)
	if err != nil {
		return fmt.Errorf("reading live configuration: %w", err)
	}
	if cur := s.snap.Load(); cur != nil && cur.Version == v.Version {
		return nil
	}
	doc, err := s.box.Open(v.Doc, []byte("config"))
	if err != nil {
		return fmt.Errorf("opening configuration version %d: %w", v.Version, err)
	}
	var m config.Mappings
	if err := json.Unmarshal(doc, &m); err != nil {
		return fmt.Errorf("decoding configuration version %d: %w", v.Version, err)
	}
	snap, err := s.BuildSnapshot(ctx, v.Version, m)
	if err != nil {
		return fmt.Errorf("configuration version %d: %w", v.Version, err)
	}
	s.snap.Store(snap)
	s.log.Info("configuration loaded", "version", v.Version, "pools", len(snap.Ordered), "providers", len(snap.Providers))
	return nil
}

// Watch keeps this replica in step with the store: configuration,
// signing keys and the identity generation.
func (s *Core) Watch(ctx context.Context) {
	tick := time.NewTicker(s.cfg.Server.ReloadInterval.D())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.file.ReloadNow:
			s.log.Info("reloading now (SIGHUP)")
		}
		if err := s.ApplyMappingsFile(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("applying the mappings file failed; trying again at the next reload", "file", s.file.Path, "error", err)
		}
		if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("configuration reload failed; keeping the previous one", "error", err)
		}
		if err := s.issuer.Reload(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("signing key reload failed", "error", err)
		}
		s.publishAfterReload(ctx)
		if err := s.syncIdentityGeneration(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("identity generation poll failed; dropping cached identities", "error", err)
			s.IdentitiesChanged()
		}
	}
}

// LookupPool finds a pool by id or name.
func (s *Core) LookupPool(key string) (*Pool, *Error) {
	snap := s.snap.Load()
	if p := snap.Pools[key]; p != nil {
		return p, nil
	}
	return nil, Errorf(http.StatusNotFound, CodeUnknownPool, "There is no pool named %q on this gateway.", Truncate(key, 80))
}

// Truncate cuts s to n bytes at most, on a UTF-8 boundary, marking the cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		n--
	}
	return s[:n] + "…"
}

// SortedProviderIDs are the snapshot's provider ids in order.
func SortedProviderIDs(snap *Snapshot) []string {
	ids := make([]string, 0, len(snap.Providers))
	for id := range snap.Providers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
