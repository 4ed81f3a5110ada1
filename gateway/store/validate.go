package store

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// Argument checks shared by every backend, so they refuse the same things.

func checkIdentityKey(k IdentityKey) error {
	if k.PoolID == "" || k.Provider == "" || k.Subject == "" {
		return errors.New("identity key needs pool, provider and subject")
	}
	return checkText(k.PoolID, k.Provider, k.Subject)
}

func checkEphemeralKey(kind, key string) error {
	if kind == "" || key == "" {
		return errors.New("ephemeral entry needs a kind and a key")
	}
	return checkText(kind) // the key is only stored hashed
}

func checkConfig(v ConfigVersion, ifLatest int64) error {
	if len(v.Doc) == 0 {
		return errors.New("empty configuration document")
	}
	if ifLatest < 0 {
		return errors.New("negative ifLatest")
	}
	return checkText(v.Hash, v.Author, v.Source, v.Comment)
}

func checkKey(k StoredKey) error {
	if k.ID == "" || k.Algorithm == "" || len(k.Sealed) == 0 {
		return errors.New("signing key needs an id, an algorithm and sealed material")
	}
	return checkText(k.ID, k.Algorithm)
}

// Text every backend can keep as it is given.
// PostgreSQL's TEXT refuses NUL and invalid UTF-8, so both backends refuse
// them on write (ErrInvalid) and, on lookups, treat such a key as absent:
// nothing can have been stored under it.

// validText reports whether s is valid UTF-8 without NUL.
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func checkText(fields ...string) error {
	for _, f := range fields {
		if !validText(f) {
			return errors.New("text with NUL or invalid UTF-8")
		}
	}
	return nil
}

// cleanText makes s storable: invalid UTF-8 and NUL become U+FFFD.
func cleanText(s string) string {
	if validText(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// Times are stored as Unix nanoseconds: exact, comparable in SQL, and the
// same column type on every backend. A zero time.Time is stored as NULL.

func toNanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
