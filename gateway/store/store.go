// Package store is fedgate's persistence: stable identities, versioned
// configuration, signing keys and short-lived entries (login flows,
// sessions, replay caches). One interface, two backends (SQLite, embedded;
// PostgreSQL, for replicated deployments) sharing one SQL implementation
// that a small dialect adapts; both pass the conformance suite in storetest.
package store

import (
	"context"
	"time"
)

// Store is everything the gateway persists. Implementations are safe for
// concurrent use, also across processes sharing one database.
type Store interface {
	KeyStore
	IdentityStore
	ConfigStore
	EphemeralStore
	AuditStore
	ConfigHistoryStore
	CLISessionStore
	PurgeStore
	AccessKeyStore
	// SAMLSigningKeys is the SAML broker's ring of signing keys, kept
	// apart from the issuer's so neither ring's rotation retires the other's.
	SAMLSigningKeys() KeyStore
	Ping(ctx context.Context) error
	Close() error
}

// IdentityStore maps a (pool, provider, subject) to a stable REGION:UUID id.
type IdentityStore interface {
	// GetOrCreateIdentity returns the id already bound to k, or binds newID
	// to k and reports created. Concurrent callers with the same key all get
	// the same id and exactly one of them sees created. It also records the
	// sign-in as LastSeenAt, to within a minute (a backend may skip the write
	// when the recorded time is that fresh).
	GetOrCreateIdentity(ctx context.Context, k IdentityKey, newID string) (id string, created bool, err error)
	// LookupIdentity returns ErrNotFound for an unknown id.
	LookupIdentity(ctx context.Context, id string) (*IdentityRecord, error)
	// IdentityGeneration is a counter that grows whenever an identity is
	// deleted or rebound to other logins; replicas that cache identity ids
	// poll it and drop their cache when it moves.
	IdentityGeneration(ctx context.Context) (int64, error)
	// BumpIdentityGeneration moves the counter on and returns its new
	// value. Store methods that delete or rebind identities move it in
	// their own transaction (bumpIdentityGeneration); this is for changes
	// made outside the store.
	BumpIdentityGeneration(ctx context.Context) (int64, error)
	// ListIdentities returns up to limit identities of a pool whose ids
	// sort after after ("" = from the first), in id order.
	ListIdentities(ctx context.Context, poolID, after string, limit int) ([]IdentityRecord, error)
	// DeleteIdentity removes an identity and its links; ErrNotFound when
	// there is none.
	DeleteIdentity(ctx context.Context, id string) error
	IdentityLinkStore
}

// IdentityLinkStore links several logins to one identity, as Cognito
// does: GetOrCreateIdentity returns the identity a login is linked to.
// An identity's first login is its row's key; more logins are links. A
// login belongs to at most one identity.
type IdentityLinkStore interface {
	// IdentityOfLogin returns the identity a login belongs to (as its
	// first login or a link); ErrNotFound when none.
	IdentityOfLogin(ctx context.Context, k IdentityKey) (string, error)
	// LoginsOf returns an identity's logins, its first login first; none
	// for a guest or an identity whose logins were all unlinked.
	// ErrNotFound for an unknown identity.
	LoginsOf(ctx context.Context, id string) ([]IdentityKey, error)
	// LinkLogin links k to identity id. A guest identity takes k as its
	// first login (it is a guest no more). Linking a login id already has
	// is no error; a login of another identity is ErrConflict, an unknown
	// id ErrNotFound, a login of another pool ErrInvalid.
	LinkLogin(ctx context.Context, id string, k IdentityKey) error
	// UnlinkLogin removes k from identity id: the next sign-in with k
	// makes a new identity. ErrNotFound when k is not id's.
	UnlinkLogin(ctx context.Context, id string, k IdentityKey) error
	// MergeIdentity moves every login of identity from to identity into
	// (same pool) and deletes from. ErrNotFound when either is unknown,
	// ErrInvalid when they are one or in different pools.
	MergeIdentity(ctx context.Context, from, into string) error
}

// UnlinkedProvider marks, in an identity's row, that its first login was
// unlinked; the row's subject is then the identity's own id.
const UnlinkedProvider = "cognito:unlinked"

// DeveloperProvider marks the logins of a pool's developer provider
// (Cognito's developer-authenticated identities); the subject is the
// developer user identifier, unique in the pool.
const DeveloperProvider = "cognito:developer"

// GuestProvider marks guest identities; their subject is their own id.
const GuestProvider = "cognito:unauthenticated"

// ConfigStore keeps every configuration document ever saved; the latest is live.
type ConfigStore interface {
	// LatestConfig returns ErrNotFound before the first PutConfig.
	LatestConfig(ctx context.Context) (*ConfigVersion, error)
	// PutConfig stores v as the next version only if the current latest
	// version is ifLatest (0 = none yet), else ErrConflict. The store assigns
	// Version and CreatedAt (v's are ignored) and fills Hash when empty.
	PutConfig(ctx context.Context, v ConfigVersion, ifLatest int64) (int64, error)
}

// EphemeralStore holds short-lived entries addressed by (kind, key). Keys are
// stored only as a hash, so a leaked database does not reveal live state or
// session values; data is stored as given (seal secrets before putting them).
// An entry whose expiry is at or before "now" is treated as absent.
type EphemeralStore interface {
	// PutEphemeral returns ErrConflict while an unexpired entry exists and
	// replaces an expired one. An expiry not after the store's clock is ErrInvalid.
	PutEphemeral(ctx context.Context, kind, key string, data []byte, expires time.Time) error
	// GetEphemeral returns ErrNotFound when the entry is absent or expired at now.
	GetEphemeral(ctx context.Context, kind, key string, now time.Time) ([]byte, error)
	// TakeEphemeral gets and deletes atomically: of N concurrent takers
	// exactly one gets the data, the others ErrNotFound.
	TakeEphemeral(ctx context.Context, kind, key string, now time.Time) ([]byte, error)
	// DeleteEphemeral is idempotent: deleting an absent entry is no error.
	DeleteEphemeral(ctx context.Context, kind, key string) error
	// PurgeExpired deletes every entry expired at now and says how many.
	PurgeExpired(ctx context.Context, now time.Time) (int64, error)
}

// IdentityKey is what makes an identity: who signed in, through which
// provider, into which pool.
type IdentityKey struct{ PoolID, Provider, Subject string }

// IdentityRecord is a stored identity.
type IdentityRecord struct {
	ID, PoolID, Provider, Subject string
	CreatedAt, LastSeenAt         time.Time
}

// ConfigVersion is one saved configuration document (providers, pools and
// rules as JSON) with who saved it, from where and why.
type ConfigVersion struct {
	Version                       int64
	Doc                           []byte
	Hash, Author, Source, Comment string
	CreatedAt                     time.Time
}
