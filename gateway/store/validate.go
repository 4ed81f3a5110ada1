package store

import (
	"errors"
	"time"
)

// Argument checks shared by every backend, so they refuse the same things.

func checkIdentityKey(k IdentityKey) error {
	if k.PoolID == "" || k.Provider == "" || k.Subject == "" {
		return errors.New("identity key needs pool, provider and subject")
	}
	return nil
}

func checkEphemeralKey(kind, key string) error {
	if kind == "" || key == "" {
		return errors.New("ephemeral entry needs a kind and a key")
	}
	return nil
}

func checkConfig(v ConfigVersion, ifLatest int64) error {
	if len(v.Doc) == 0 {
		return errors.New("empty configuration document")
	}
	if ifLatest < 0 {
		return errors.New("negative ifLatest")
	}
	return nil
}

func checkKey(k StoredKey) error {
	if k.ID == "" || k.Algorithm == "" || len(k.Sealed) == 0 {
		return errors.New("signing key needs an id, an algorithm and sealed material")
	}
	return nil
}

// Times are stored as Unix nanoseconds: exact, comparable in SQL, and the
// same column type on every backend. A zero time.Time is stored as NULL.

func toNanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
