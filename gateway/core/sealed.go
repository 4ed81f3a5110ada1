package core

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"fedgate/gateway/store"
)

// PutSealed stores a short-lived entry encrypted: flows and sessions hold
// claims and, in upstream-token mode, the upstream token.
func (s *Core) PutSealed(ctx context.Context, kind, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sealed, err := s.box.Seal(b, sealedEntryAAD(kind, key))
	if err != nil {
		return err
	}
	return s.store.PutEphemeral(ctx, kind, key, sealed, s.now().Add(ttl))
}

// sealedEntryAAD binds a sealed entry to its kind and key, so that someone
// who can write the database but lacks the master key cannot move one
// person's session under another person's cookie.
func sealedEntryAAD(kind, key string) []byte {
	return []byte(kind + "\x00" + key)
}

func (s *Core) openSealed(kind, key string, sealed []byte, v any) error {
	b, err := s.box.Open(sealed, sealedEntryAAD(kind, key))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// TakeSealed reads and deletes a sealed entry in one step (a flow or a
// one-time code is used once).
func (s *Core) TakeSealed(ctx context.Context, kind, key string, v any) error {
	sealed, err := s.store.TakeEphemeral(ctx, kind, key, s.now())
	if err != nil {
		return err
	}
	return s.openSealed(kind, key, sealed, v)
}

// GetSealed reads a sealed entry and leaves it in place.
func (s *Core) GetSealed(ctx context.Context, kind, key string, v any) error {
	sealed, err := s.store.GetEphemeral(ctx, kind, key, s.now())
	if err != nil {
		return err
	}
	return s.openSealed(kind, key, sealed, v)
}

// LookupSealed reads the entry a browser names (by cookie or form field)
// into v. A missing, oversized or unknown key is the caller's expired error,
// so a guessed or stale key tells nothing more; a store failure is internal.
func (s *Core) LookupSealed(ctx context.Context, kind, key string, v any, expired *Error) *Error {
	if key == "" || len(key) > 128 {
		return expired
	}
	if err := s.GetSealed(ctx, kind, key, v); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return expired
		}
		return Internal(err)
	}
	return nil
}
