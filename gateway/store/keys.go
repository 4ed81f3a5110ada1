package store

import (
	"context"
	"time"
)

// StoredKey is one signing key as the store holds it. The private material
// is sealed by the key's owner (the token issuer or the SAML broker) before
// it gets here; the store never sees it in clear.
type StoredKey struct {
	ID        string
	Algorithm string
	Sealed    []byte // the private key, sealed by its owner with ID as additional data
	CreatedAt time.Time
	RetiredAt time.Time // zero = active
}

// KeyStore is one ring of signing keys: the token issuer's (the Store
// itself) or the SAML broker's (Store.SAMLSigningKeys).
type KeyStore interface {
	// ListSigningKeys returns every key of the ring, oldest first.
	ListSigningKeys(ctx context.Context) ([]StoredKey, error)
	// AddSigningKey stores k: a duplicate id is ErrConflict, a zero
	// CreatedAt is stamped with the store's clock.
	AddSigningKey(ctx context.Context, k StoredKey) error
	// RetireSigningKeys marks every active key except exceptID retired at
	// `at`; keys already retired keep their original time.
	RetireSigningKeys(ctx context.Context, exceptID string, at time.Time) error
	// DeleteSigningKeysRetiredBefore deletes keys retired before t; active
	// keys are never deleted.
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error
}
