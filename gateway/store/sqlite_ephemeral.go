package store

import (
	"context"
	"errors"
	"time"
)

// PutEphemeral implements EphemeralStore. One upsert decides atomically: it
// inserts, or overwrites only an entry that has expired; zero rows changed
// means a live entry holds the key.
func (s *SQLite) PutEphemeral(ctx context.Context, kind, key string, data []byte, expires time.Time) error {
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
	res, err := s.writer.ExecContext(ctx, `INSERT INTO ephemeral (key_hash, kind, data, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key_hash) DO UPDATE SET kind = excluded.kind, data = excluded.data, expires_at = excluded.expires_at
		WHERE ephemeral.expires_at <= ?`,
		EphemeralKeyHash(kind, key), kind, data, toNanos(expires), now)
	if err != nil {
		return classify(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return classify(op, err)
	}
	if n == 0 {
		return newError(op, ErrConflict, nil)
	}
	return nil
}

// GetEphemeral implements EphemeralStore.
func (s *SQLite) GetEphemeral(ctx context.Context, kind, key string, now time.Time) ([]byte, error) {
	var data []byte
	err := s.reader.QueryRowContext(ctx, `SELECT data FROM ephemeral WHERE key_hash = ? AND expires_at > ?`,
		EphemeralKeyHash(kind, key), toNanos(now)).Scan(&data)
	if err != nil {
		return nil, classify("GetEphemeral", err)
	}
	return data, nil
}

// TakeEphemeral implements EphemeralStore: DELETE ... RETURNING is one
// statement on the single writer, so only one taker can see the row.
func (s *SQLite) TakeEphemeral(ctx context.Context, kind, key string, now time.Time) ([]byte, error) {
	var data []byte
	err := s.writer.QueryRowContext(ctx, `DELETE FROM ephemeral WHERE key_hash = ? AND expires_at > ? RETURNING data`,
		EphemeralKeyHash(kind, key), toNanos(now)).Scan(&data)
	if err != nil {
		return nil, classify("TakeEphemeral", err)
	}
	return data, nil
}

// DeleteEphemeral implements EphemeralStore.
func (s *SQLite) DeleteEphemeral(ctx context.Context, kind, key string) error {
	_, err := s.writer.ExecContext(ctx, `DELETE FROM ephemeral WHERE key_hash = ?`, EphemeralKeyHash(kind, key))
	return classify("DeleteEphemeral", err)
}

// PurgeExpired implements EphemeralStore.
func (s *SQLite) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	const op = "PurgeExpired"
	res, err := s.writer.ExecContext(ctx, `DELETE FROM ephemeral WHERE expires_at <= ?`, toNanos(now))
	if err != nil {
		return 0, classify(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, classify(op, err)
	}
	return n, nil
}
