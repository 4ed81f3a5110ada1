// Package issuer is fedgate's own OIDC issuer for the gateway-token exchange
// mode: it keeps signing keys (sealed at rest in the gateway's store), mints
// the short-lived JWTs that AWS STS AssumeRoleWithWebIdentity accepts, and
// publishes the JWKS and discovery document IAM fetches.
package issuer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"fedgate/gateway/store"
)

const (
	// DefaultTokenTTL is the lifetime of a minted token when none is set.
	DefaultTokenTTL = 5 * time.Minute
	// MaxTokenTTL caps every minted token: it only has to survive one STS call.
	MaxTokenTTL = 10 * time.Minute
	// ClockSkew is the skew STS tolerates; retired keys stay published this
	// long past the last token they could have signed.
	ClockSkew = 5 * time.Minute
	// retention is how long a retired key stays in the JWKS. It covers the
	// longest token Mint can produce, not just the default TTL.
	retention = MaxTokenTTL + ClockSkew
)

// ErrInvalidToken wraps every rejection of a Token passed to Mint.
var ErrInvalidToken = errors.New("issuer: invalid token request")

// Sealer encrypts keys at rest; *secret.Box implements it.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// Options configure an Issuer.
type Options struct {
	URL       string        // public issuer URL, e.g. https://fedgate.example.com (no trailing slash)
	Algorithm string        // "ES256" (default) or "RS256"
	TokenTTL  time.Duration // default 5m, at most 10m
	Keys      store.KeyStore
	Sealer    Sealer
	Now       func() time.Time
	Rand      io.Reader // key material and jti; must be safe for concurrent use
	// PublishDelay is how long a rotated key is published before it signs,
	// so that every replica (and every JWKS cache) knows it first; set it
	// above the replicas' reload interval. 0 switches at once.
	PublishDelay time.Duration
	// Announce, when set, is called during every rotation (and the first
	// key's creation) with the key set as it will be once the new key is
	// stored, before it is stored. An error aborts the rotation, so no key
	// signs that its announcement did not reach (keys.publish).
	Announce func(ctx context.Context, next jose.JSONWebKeySet) error
}

// Issuer mints tokens with the current signing key. Mint and JWKS read an
// atomically swapped snapshot; only key-changing calls take a lock.
type Issuer struct {
	opts     Options
	snapshot atomic.Pointer[keySet]
	writeMu  sync.Mutex // serialises Reload/Rotate/Prune so snapshots do not go backwards
}

// New validates o, loads the stored keys and, when there is no active key of
// the configured algorithm, creates one (retiring the others).
func New(ctx context.Context, o Options) (*Issuer, error) {
	if err := o.normalise(); err != nil {
		return nil, err
	}
	i := &Issuer{opts: o}
	i.writeMu.Lock()
	defer i.writeMu.Unlock()
	keys, err := o.Keys.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("issuer: list signing keys: %w", err)
	}
	if !hasActive(keys, o.Algorithm) {
		// Nothing to announce against: the first key signs at once.
		if _, err := i.rotateLocked(ctx, 0); err != nil {
			return nil, err
		}
		return i, nil
	}
	if err := i.loadLocked(keys); err != nil {
		return nil, err
	}
	return i, nil
}

func (o *Options) normalise() error {
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "":
		return errors.New("issuer: URL is required")
	case err != nil:
		return fmt.Errorf("issuer: URL %q: %w", o.URL, err)
	case (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Errorf("issuer: URL %q must be an absolute https URL", o.URL)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o.URL, "/"):
		return fmt.Errorf("issuer: URL %q must have no query, fragment or trailing slash", o.URL)
	}
	if o.Algorithm == "" {
		o.Algorithm = AlgES256
	}
	if !supportedAlgorithm(o.Algorithm) {
		return fmt.Errorf("issuer: algorithm %q not supported (use %s or %s)", o.Algorithm, AlgES256, AlgRS256)
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.TokenTTL < 0 || o.TokenTTL > MaxTokenTTL {
		return fmt.Errorf("issuer: token TTL %s out of range (0 < ttl <= %s)", o.TokenTTL, MaxTokenTTL)
	}
	switch {
	case o.Keys == nil:
		return errors.New("issuer: Keys store is required")
	case o.Sealer == nil:
		return errors.New("issuer: Sealer is required")
	case o.Now == nil:
		return errors.New("issuer: Now clock is required")
	case o.Rand == nil:
		return errors.New("issuer: Rand source is required")
	}
	return nil
}

// PoolIssuerURL is the issuer URL of a pool that has an issuer path of its own.
func (i *Issuer) PoolIssuerURL(pool string) string { return i.opts.URL + "/pools/" + pool }

// Reload re-reads the stored keys (another replica may have rotated) and
// swaps the snapshot. On error the previous snapshot stays in place.
func (i *Issuer) Reload(ctx context.Context) error {
	i.writeMu.Lock()
	defer i.writeMu.Unlock()
	return i.reloadLocked(ctx)
}

// Rotate creates a key, makes it the signer and retires the others now; they
// stay published until Prune removes them after the retention window.
func (i *Issuer) Rotate(ctx context.Context) (string, error) {
	i.writeMu.Lock()
	defer i.writeMu.Unlock()
	return i.rotateLocked(ctx, i.opts.PublishDelay)
}

// Prune deletes keys retired long enough ago that no token they signed can
// still be accepted, then reloads.
func (i *Issuer) Prune(ctx context.Context) error {
	i.writeMu.Lock()
	defer i.writeMu.Unlock()
	if err := i.opts.Keys.DeleteSigningKeysRetiredBefore(ctx, i.opts.Now().Add(-retention)); err != nil {
		return fmt.Errorf("issuer: prune signing keys: %w", err)
	}
	return i.reloadLocked(ctx)
}

func (i *Issuer) rotateLocked(ctx context.Context, publishDelay time.Duration) (string, error) {
	// The new key is published now and signs from activation on; the
	// previous keys sign until then and stay published for the retention
	// window after it.
	activation := i.opts.Now().Add(publishDelay)
	stored, err := generateKey(i.opts.Algorithm, i.opts.Rand, i.opts.Sealer, activation)
	if err != nil {
		return "", err
	}
	if err := i.announceLocked(ctx, stored); err != nil {
		return "", err
	}
	if err := i.opts.Keys.AddSigningKey(ctx, stored); err != nil {
		return "", fmt.Errorf("issuer: store signing key: %w", err)
	}
	if err := i.opts.Keys.RetireSigningKeys(ctx, stored.ID, activation); err != nil {
		return "", fmt.Errorf("issuer: retire previous signing keys: %w", err)
	}
	if err := i.reloadLocked(ctx); err != nil {
		return "", err
	}
	return stored.ID, nil
}

// announceLocked hands Announce the key set that storing next will give:
// the stored keys (the others stay published through their retention)
// plus next.
func (i *Issuer) announceLocked(ctx context.Context, next store.StoredKey) error {
	if i.opts.Announce == nil {
		return nil
	}
	keys, err := i.opts.Keys.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("issuer: list signing keys: %w", err)
	}
	set, err := buildKeySet(append(keys, next), i.opts.Algorithm, i.opts.Sealer, i.opts.Now())
	if err != nil {
		return err
	}
	if err := i.opts.Announce(ctx, set.public); err != nil {
		return fmt.Errorf("issuer: announcing key %s (not stored, the previous keys keep signing): %w", next.ID, err)
	}
	return nil
}

func (i *Issuer) reloadLocked(ctx context.Context) error {
	keys, err := i.opts.Keys.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("issuer: list signing keys: %w", err)
	}
	return i.loadLocked(keys)
}

func (i *Issuer) loadLocked(keys []store.StoredKey) error {
	set, err := buildKeySet(keys, i.opts.Algorithm, i.opts.Sealer, i.opts.Now())
	if err != nil {
		return err
	}
	i.snapshot.Store(set)
	return nil
}

func hasActive(keys []store.StoredKey, alg string) bool {
	for _, k := range keys {
		if k.RetiredAt.IsZero() && k.Algorithm == alg {
			return true
		}
	}
	return false
}
