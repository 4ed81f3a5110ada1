package store

import (
	"context"
	"errors"
	"time"
)

// PutEphemeral implements EphemeralStore. One upsert decides atomically: a
// concurrent inserter of the same key waits for the first, then sees its
// live row and changes nothing (ErrConflict); only an expired row is
// overwritten.
func (s *PostgreSQL) PutEphemeral(ctx context.Context, kind, key string, data []byte, expires time.Time) error {
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
	res, err := s.db.ExecContext(ctx, `INSERT INTO ephemeral (key_hash, kind, data, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key_hash) DO UPDATE SET kind = excluded.kind, data = excluded.data, expires_at = excluded.expires_at
		WHERE ephemeral.expires_at <= $5`,
		EphemeralKeyHash(kind, key), kind, data, toNanos(expires), now)
	if err != nil {
		return classifyPG(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return classifyPG(op, err)
	}
	if n == 0 {
		return newError(op, ErrConflict, nil)
	}
	return nil
}

// GetEphemeral implements EphemeralStore.
func (s *PostgreSQL) GetEphemeral(ctx context.Context, kind, key string, now time.Time) ([]byte, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM ephemeral WHERE key_hash = $1 AND expires_at > $2`,
		EphemeralKeyHash(kind, key), toNanos(now)).Scan(&data)
	if err != nil {
		return nil, classifyPG("GetEphemeral", err)
	}
	return data, nil
}

// TakeEphemeral implements EphemeralStore: of concurrent DELETE ...
// RETURNING statements on one row, the first locks and deletes it; the
// others wait, find it gone, and return no row.
func (s *PostgreSQL) TakeEphemeral(ctx context.Context, kind, key string, now time.Time) ([]byte, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `DELETE FROM ephemeral WHERE key_hash = $1 AND expires_at > $2 RETURNING data`,
		EphemeralKeyHash(kind, key), toNanos(now)).Scan(&data)
	if err != nil {
		return nil, classifyPG("TakeEphemeral", err)
	}
	return data, nil
}

// DeleteEphemeral implements EphemeralStore.
func (s *PostgreSQL) DeleteEphemeral(ctx context.Context, kind, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM ephemeral WHERE key_hash = $1`, EphemeralKeyHash(kind, key))
	return classifyPG("DeleteEphemeral", err)
}

// PurgeExpired implements EphemeralStore.
func (s *PostgreSQL) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	const op = "PurgeExpired"
	res, err := s.db.ExecContext(ctx, `DELETE FROM ephemeral WHERE expires_at <= $1`, toNanos(now))
	if err != nil {
		return 0, classifyPG(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, classifyPG(op, err)
	}
	return n, nil
}
