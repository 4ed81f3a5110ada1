package store

import (
	"crypto/sha256"
	"encoding/hex"
)

// EphemeralKeyHash is how an ephemeral (kind, key) is addressed at rest:
// SHA-256 hex, so the database never holds a live state or session value.
// The NUL separator keeps ("ab","c") and ("a","bc") apart. Exported so other
// backends hash identically.
func EphemeralKeyHash(kind, key string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil))
}
