package store

import "fedgate/exchange/issuer"

// The issuer owns the signing-key contract; the store only persists it.
// Aliases keep store.StoredKey usable without importing issuer everywhere.
type (
	StoredKey = issuer.StoredKey
	KeyStore  = issuer.KeyStore
)
