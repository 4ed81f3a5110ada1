package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// lastSeenResolution bounds how stale identities.last_seen_at may be; it
// spares the single SQLite writer one write per vend.
const lastSeenResolution = time.Minute

// GetOrCreateIdentity implements IdentityStore.
func (s *SQLite) GetOrCreateIdentity(ctx context.Context, k IdentityKey, newID string) (string, bool, error) {
	const op = "GetOrCreateIdentity"
	if err := checkIdentityKey(k); err != nil {
		return "", false, newError(op, ErrInvalid, err)
	}
	if newID == "" || !validText(newID) {
		return "", false, newError(op, ErrInvalid, nil)
	}
	now := toNanos(s.now())
	// Fast path for people who sign in again: a read on the reader pool,
	// no write, unless last_seen_at is older than lastSeenResolution.
	var id string
	var seen int64
	err := s.reader.QueryRowContext(ctx, `SELECT id, last_seen_at FROM identities
		WHERE pool_id = ? AND provider = ? AND subject = ?`, k.PoolID, k.Provider, k.Subject).Scan(&id, &seen)
	if err == nil && now-seen < int64(lastSeenResolution) {
		return id, false, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", false, classify(op, err)
	}
	var created bool
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		// DO NOTHING only on the identity key: a newID already bound to
		// another key still fails (as ErrConflict) instead of being merged.
		res, err := tx.ExecContext(ctx, `INSERT INTO identities (id, pool_id, provider, subject, created_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (pool_id, provider, subject) DO NOTHING`,
			newID, k.PoolID, k.Provider, k.Subject, now, now)
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
		return tx.QueryRowContext(ctx, `UPDATE identities SET last_seen_at = ?
			WHERE pool_id = ? AND provider = ? AND subject = ? RETURNING id`,
			now, k.PoolID, k.Provider, k.Subject).Scan(&id)
	})
	if err != nil {
		return "", false, classify(op, err)
	}
	return id, created, nil
}

// LookupIdentity implements IdentityStore.
func (s *SQLite) LookupIdentity(ctx context.Context, id string) (*IdentityRecord, error) {
	var r IdentityRecord
	var createdAt, lastSeenAt int64
	err := s.reader.QueryRowContext(ctx, `SELECT id, pool_id, provider, subject, created_at, last_seen_at
		FROM identities WHERE id = ?`, id).
		Scan(&r.ID, &r.PoolID, &r.Provider, &r.Subject, &createdAt, &lastSeenAt)
	if err != nil {
		return nil, classify("LookupIdentity", err)
	}
	r.CreatedAt, r.LastSeenAt = fromNanos(createdAt), fromNanos(lastSeenAt)
	return &r, nil
}
