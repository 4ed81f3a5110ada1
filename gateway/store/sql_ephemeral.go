package store

import (
	"context"
	"errors"
	"time"
)

// PutEphemeral implements EphemeralStore. One upsert decides atomically: it
// inserts, or overwrites only an entry that has expired; a concurrent
// inserter of the same key waits for the first, then sees its live row and
// changes nothing. Zero rows changed means a live entry holds the key.
func (s *sqlStore) PutEphemeral(ctx context.Context, kind, key string, data []byte, expires time.Time) error {
	const op = "PutEphemeral"
	if err := checkEphemeralKey(kind, key); err != nil {
		return newError(op, ErrInvalid, err)
	}
	now := toNanos(s.now())
	if toNanos(expires) <= now {
		return newError(op, ErrInvalid, errors.New("entry already expired"))
	}
	if data == nil {
		data = []byte{} // the column is NOT NULL; nil and empty mean the same here
	}
	n, err := s.exec(ctx, op, `INSERT INTO ephemeral (key_hash, kind, data, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key_hash) DO UPDATE SET kind = excluded.kind, data = excluded.data, expires_at = excluded.expires_at
		WHERE ephemeral.expires_at <= $5`,
		EphemeralKeyHash(kind, key), kind, data, toNanos(expires), now)
	if err != nil {
		return err
	}
	if n == 0 {
		return newError(op, ErrConflict, nil)
	}
	return nil
}

// GetEphemeral implements EphemeralStore.
func (s *sqlStore) GetEphemeral(ctx context.Context, kind, key string, now time.Time) ([]byte, error) {
	var data []byte
	err := s.reader.QueryRowContext(ctx, `SELECT data FROM ephemeral WHERE key_hash = $1 AND expires_at > $2`,
		EphemeralKeyHash(kind, key), toNanos(now)).Scan(&data)
	if err != nil {
		return nil, s.classify("GetEphemeral", err)
	}
	return data, nil
}

// TakeEphemeral implements EphemeralStore: of concurrent DELETE ...
// RETURNING statements on one row, the first deletes it; the others (queued
// behind SQLite's single writer, or waiting on PostgreSQL's row lock) find
// it gone and return no row.
func (s *sqlStore) TakeEphemeral(ctx context.Context, kind, key string, now time.Time) ([]byte, error) {
	var data []byte
	err := s.writer.QueryRowContext(ctx, `DELETE FROM ephemeral WHERE key_hash = $1 AND expires_at > $2 RETURNING data`,
		EphemeralKeyHash(kind, key), toNanos(now)).Scan(&data)
	if err != nil {
		return nil, s.classify("TakeEphemeral", err)
	}
	return data, nil
}

// DeleteEphemeral implements EphemeralStore.
func (s *sqlStore) DeleteEphemeral(ctx context.Context, kind, key string) error {
	_, err := s.writer.ExecContext(ctx, `DELETE FROM ephemeral WHERE key_hash = $1`, EphemeralKeyHash(kind, key))
	return s.classify("DeleteEphemeral", err)
}

// PurgeExpired implements EphemeralStore.
func (s *sqlStore) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	return s.exec(ctx, "PurgeExpired", `DELETE FROM ephemeral WHERE expires_at <= $1`, toNanos(now))
}
