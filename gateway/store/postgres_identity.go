package store

import (
	"context"
	"database/sql"
	"errors"
)

// GetOrCreateIdentity implements IdentityStore. As in SQLite: a read-only
// fast path for people signing in again, then INSERT ... ON CONFLICT DO
// NOTHING, which waits for a concurrent inserter of the same key and then
// yields to it, so exactly one caller creates.
func (s *PostgreSQL) GetOrCreateIdentity(ctx context.Context, k IdentityKey, newID string) (string, bool, error) {
	const op = "GetOrCreateIdentity"
	if err := checkIdentityKey(k); err != nil {
		return "", false, newError(op, ErrInvalid, err)
	}
	if newID == "" || !validText(newID) {
		return "", false, newError(op, ErrInvalid, nil)
	}
	now := toNanos(s.now())
	var id string
	var seen int64
	err := s.db.QueryRowContext(ctx, `SELECT id, last_seen_at FROM identities
		WHERE pool_id = $1 AND provider = $2 AND subject = $3`, k.PoolID, k.Provider, k.Subject).Scan(&id, &seen)
	if err == nil && now-seen < int64(lastSeenResolution) {
		return id, false, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", false, classifyPG(op, err)
	}
	var created bool
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		// DO NOTHING only on the identity key: a newID already bound to
		// another key still fails (unique_violation: ErrConflict).
		res, err := tx.ExecContext(ctx, `INSERT INTO identities (id, pool_id, provider, subject, created_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (pool_id, provider, subject) DO NOTHING`,
			newID, k.PoolID, k.Provider, k.Subject, now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			id, created = newID, true
			return nil
		}
		// GREATEST: a replica with a slower clock never moves it back.
		return tx.QueryRowContext(ctx, `UPDATE identities SET last_seen_at = GREATEST(last_seen_at, $1)
			WHERE pool_id = $2 AND provider = $3 AND subject = $4 RETURNING id`,
			now, k.PoolID, k.Provider, k.Subject).Scan(&id)
	})
	if err != nil {
		return "", false, classifyPG(op, err)
	}
	return id, created, nil
}

// LookupIdentity implements IdentityStore.
func (s *PostgreSQL) LookupIdentity(ctx context.Context, id string) (*IdentityRecord, error) {
	if !validText(id) { // PostgreSQL would refuse the query; no such id was ever stored
		return nil, newError("LookupIdentity", ErrNotFound, nil)
	}
	var r IdentityRecord
	var createdAt, lastSeenAt int64
	err := s.db.QueryRowContext(ctx, `SELECT id, pool_id, provider, subject, created_at, last_seen_at
		FROM identities WHERE id = $1`, id).
		Scan(&r.ID, &r.PoolID, &r.Provider, &r.Subject, &createdAt, &lastSeenAt)
	if err != nil {
		return nil, classifyPG("LookupIdentity", err)
	}
	r.CreatedAt, r.LastSeenAt = fromNanos(createdAt), fromNanos(lastSeenAt)
	return &r, nil
}
