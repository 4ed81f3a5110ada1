// Package core is fedgate's HTTP-free heart: the live configuration
// snapshot, principals and their entitlements, stable identities, the one
// audited vend, sealed short-lived entries, SAML replay and binding, trust
// policies and the mappings document. The surfaces (browser sign-in, JSON
// API, Cognito, CLI, admin) translate HTTP into calls on a *Core.
package core

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"fedgate/exchange"
	"fedgate/exchange/issuer"
	"fedgate/exchange/modes"
	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// Deps is everything the core needs from outside; main wires real ones,
// tests wire their own.
type Deps struct {
	Config *config.File
	Store  store.Store
	Issuer *issuer.Issuer
	Box    *secret.Box
	STS    exchange.WebIdentitySTS
	// Upstream is the HTTP client for identity providers and every other
	// URL an admin can set (gateway/upstream: timeouts, and the gateway's
	// own network refused unless server.allow_upstream_cidrs allows it).
	Upstream *http.Client
	Logger   *slog.Logger
	Now      func() time.Time
	Rand     io.Reader
	// OnVend observes every vend attempt (metrics); nil ignores them.
	OnVend func(ctx context.Context, ok bool)
	// File is where Config was read from; zero when it was not read from
	// a file (tests).
	File ConfigFile
	// Publisher, when set, receives the issuer documents at start and
	// whenever a reload changes them (keys.publish).
	Publisher IssuerPublisher
}

// ConfigFile is the configuration file and how to read it again: with
// mappings.source: file, every reload applies its mappings.
type ConfigFile struct {
	Path string
	// Load reads and validates the file as serve did at start (the
	// environment expanded, its overrides applied).
	Load func() (*config.File, error)
	// ReloadNow, when it delivers, makes the next reload happen at once
	// rather than at the next server.reload_interval (SIGHUP).
	ReloadNow <-chan struct{}
}

// Core holds the live configuration and performs every vend.
type Core struct {
	cfg            *config.File
	store          store.Store
	issuer         *issuer.Issuer
	box            *secret.Box
	modes          map[string]liveMode
	upstreamClient *http.Client
	log            *slog.Logger
	now            func() time.Time
	rand           io.Reader
	snap           atomic.Pointer[Snapshot]
	saml           *samlState
	onVend         func(ctx context.Context, ok bool)
	identities     *identityCache
	tokens         *tokenCache
	file           ConfigFile
	fileState      fileState
	publisher      IssuerPublisher
	publishMu      sync.Mutex // one publication at a time; guards published
	published      string     // what was last published (documentsSignature)
}

// New builds the core and loads the live configuration from the store.
func New(ctx context.Context, d Deps) (*Core, error) {
	s := &Core{
		cfg: d.Config, store: d.Store, issuer: d.Issuer, box: d.Box,
		upstreamClient: d.Upstream, log: d.Logger, now: d.Now, rand: d.Rand, onVend: d.OnVend, file: d.File,
		identities: newIdentityCache(), tokens: newTokenCache(), publisher: d.Publisher,
	}
	if s.onVend == nil {
		s.onVend = func(context.Context, bool) {}
	}
	// Seed applied the file at start: reloads only look again once it
	// changes.
	if doc, err := json.Marshal(d.Config.Mappings()); err == nil && d.Box != nil {
		s.fileState.seen = d.Box.Digest(doc)
	}
	s.saml = newSAMLState(d.Config, d.Store, d.Box, d.Now, d.Rand)
	samlSTS, _ := d.STS.(exchange.SAMLSTS)
	deps := exchange.ModeDeps{Minter: d.Issuer, WebIdentitySTS: d.STS, SAMLSTS: samlSTS, Signer: brokerSigner{s.saml}}
	s.modes = map[string]liveMode{}
	for _, spec := range modes.All() {
		s.modes[spec.Name] = liveMode{spec: spec, mode: spec.New(deps)}
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	if err := s.syncIdentityGeneration(ctx); err != nil {
		return nil, fmt.Errorf("reading the identity generation: %w", err)
	}
	// A gateway whose issuer documents did not reach their bucket would
	// vend tokens IAM cannot verify: it does not start.
	s.publishMu.Lock()
	err := s.publishIssuerLocked(ctx, true)
	s.publishMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("keys.publish: %w", err)
	}
	return s, nil
}

// Snapshot is the live configuration now.
func (s *Core) Snapshot() *Snapshot { return s.snap.Load() }

// Config is the file configuration the core was built with.
func (s *Core) Config() *config.File { return s.cfg }

// MappingsFile is the file that holds the live mappings when
// mappings.source is file ("" otherwise): the admin UI and API are
// read-only then, and say where to change them.
func (s *Core) MappingsFile() string {
	if s.cfg.MappingsSource.Source != config.MappingsFromFile {
		return ""
	}
	return cmp.Or(s.file.Path, "the configuration file")
}

// Store is the store the core persists to.
func (s *Core) Store() store.Store { return s.store }

// Logger is the core's logger, for log lines outside a request.
func (s *Core) Logger() *slog.Logger { return s.log }

// Now is the injected clock.
func (s *Core) Now() time.Time { return s.now() }

// Issuer is fedgate's own token issuer.
func (s *Core) Issuer() *issuer.Issuer { return s.issuer }

// Box seals and opens secrets with the operator's master key.
func (s *Core) Box() *secret.Box { return s.box }

// Rand is the injected random source.
func (s *Core) Rand() io.Reader { return s.rand }

// Run keeps this replica in step with the store (configuration, signing
// keys), purges what expired, refreshes SAML metadata and prunes the
// audit log until ctx ends.
func (s *Core) Run(ctx context.Context) {
	go s.WatchSAMLMetadata(ctx)
	go s.Purge(ctx, PurgeInterval)
	go s.PruneAuditLog(ctx)
	s.Watch(ctx)
}

// liveMode is a registered exchange mode, built once, with its spec.
type liveMode struct {
	spec exchange.ModeSpec
	mode exchange.Mode
}
