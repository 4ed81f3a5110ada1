// Package issuertest provides an in-memory store.KeyStore for tests of the
// issuer and of the code that uses it; the clock they share is testkit.Clock.
package issuertest

import (
	"context"
	"slices"
	"sync"
	"time"

	"fedgate/gateway/store"
)

// KeyStore is an in-memory store.KeyStore, safe for concurrent use.
type KeyStore struct {
	mu   sync.Mutex
	keys []store.StoredKey
}

// ListSigningKeys returns a copy of every stored key.
func (m *KeyStore) ListSigningKeys(context.Context) ([]store.StoredKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.keys)
	for i := range out {
		out[i].Sealed = slices.Clone(out[i].Sealed)
	}
	return out, nil
}

// AddSigningKey stores k.
func (m *KeyStore) AddSigningKey(_ context.Context, k store.StoredKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = append(m.keys, k)
	return nil
}

// RetireSigningKeys marks every active key except exceptID retired at `at`.
func (m *KeyStore) RetireSigningKeys(_ context.Context, exceptID string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].ID != exceptID && m.keys[i].RetiredAt.IsZero() {
			m.keys[i].RetiredAt = at
		}
	}
	return nil
}

// DeleteSigningKeysRetiredBefore drops keys retired before t.
func (m *KeyStore) DeleteSigningKeysRetiredBefore(_ context.Context, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = slices.DeleteFunc(m.keys, func(k store.StoredKey) bool {
		return !k.RetiredAt.IsZero() && k.RetiredAt.Before(t)
	})
	return nil
}

// Len is the number of stored keys.
func (m *KeyStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

// Mutate lets a test alter stored rows in place, e.g. to simulate tampering.
func (m *KeyStore) Mutate(fn func(keys []store.StoredKey)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(m.keys)
}
