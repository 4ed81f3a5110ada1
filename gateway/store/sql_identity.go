package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// lastSeenResolution bounds how stale identities.last_seen_at may be; it
// spares the database one write per vend.
const lastSeenResolution = time.Minute

// GetOrCreateIdentity implements IdentityStore: a read-only fast path for
// people signing in again, then INSERT ... ON CONFLICT DO NOTHING, which
// waits for a concurrent inserter of the same key and then yields to it, so
// exactly one caller creates.
func (s *sqlStore) GetOrCreateIdentity(ctx context.Context, k IdentityKey, newID string) (string, bool, error) {
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
	err := s.reader.QueryRowContext(ctx, `SELECT id, last_seen_at FROM identities
		WHERE pool_id = $1 AND provider = $2 AND subject = $3`, k.PoolID, k.Provider, k.Subject).Scan(&id, &seen)
	if err == nil && now-seen < int64(lastSeenResolution) {
		return id, false, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", false, s.classify(op, err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		// A login linked to an identity it did not create.
		err = s.reader.QueryRowContext(ctx, `SELECT identity_id FROM identity_links
			WHERE pool_id = $1 AND provider = $2 AND subject = $3`, k.PoolID, k.Provider, k.Subject).Scan(&id)
		if err == nil {
			return id, false, s.touchIdentity(ctx, id, now)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", false, s.classify(op, err)
		}
	}
	var created bool
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		// A link made since the read above (on any replica) wins: the
		// login's lock orders this against LinkLogin and MergeIdentity,
		// which the unique keys cannot, the login living in two tables.
		if err := s.d.lockTx(ctx, tx, loginLock(k)); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT identity_id FROM identity_links
			WHERE pool_id = $1 AND provider = $2 AND subject = $3`, k.PoolID, k.Provider, k.Subject).Scan(&id)
		if err == nil {
			_, err = tx.ExecContext(ctx, `UPDATE identities SET last_seen_at = `+s.d.greatest("last_seen_at", "$1")+` WHERE id = $2`, now, id)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// DO NOTHING only on the identity key: a newID already bound to
		// another key still fails (as ErrConflict) instead of being merged.
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
		created = n == 1
		if created {
			id = newID
			return nil
		}
		// The greater time: a replica with a slower clock never moves it back.
		return tx.QueryRowContext(ctx, `UPDATE identities SET last_seen_at = `+s.d.greatest("last_seen_at", "$1")+`
			WHERE pool_id = $2 AND provider = $3 AND subject = $4 RETURNING id`,
			now, k.PoolID, k.Provider, k.Subject).Scan(&id)
	})
	if err != nil {
		return "", false, s.classify(op, err)
	}
	return id, created, nil
}

// LookupIdentity implements IdentityStore.
func (s *sqlStore) LookupIdentity(ctx context.Context, id string) (*IdentityRecord, error) {
	const op = "LookupIdentity"
	if !validText(id) { // no such id was ever stored (and PostgreSQL would refuse the query)
		return nil, newError(op, ErrNotFound, nil)
	}
	var r IdentityRecord
	var createdAt, lastSeenAt int64
	err := s.reader.QueryRowContext(ctx, `SELECT id, pool_id, provider, subject, created_at, last_seen_at
		FROM identities WHERE id = $1`, id).
		Scan(&r.ID, &r.PoolID, &r.Provider, &r.Subject, &createdAt, &lastSeenAt)
	if err != nil {
		return nil, s.classify(op, err)
	}
	r.CreatedAt, r.LastSeenAt = fromNanos(createdAt), fromNanos(lastSeenAt)
	return &r, nil
}

// IdentityGeneration implements IdentityStore.
func (s *sqlStore) IdentityGeneration(ctx context.Context) (int64, error) {
	var gen int64
	err := s.reader.QueryRowContext(ctx, `SELECT value FROM store_counters WHERE name = 'identity_generation'`).Scan(&gen)
	if err != nil {
		return 0, s.classify("IdentityGeneration", err)
	}
	return gen, nil
}

// BumpIdentityGeneration implements IdentityStore.
func (s *sqlStore) BumpIdentityGeneration(ctx context.Context) (int64, error) {
	var gen int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		gen, err = bumpIdentityGeneration(ctx, tx)
		return err
	})
	if err != nil {
		return 0, s.classify("BumpIdentityGeneration", err)
	}
	return gen, nil
}

// bumpIdentityGeneration moves identity_generation on inside tx: every
// store method that deletes an identity or rebinds its logins calls it in
// the same transaction, so no replica keeps serving the old binding past
// its next poll.
func bumpIdentityGeneration(ctx context.Context, tx *sql.Tx) (int64, error) {
	var gen int64
	err := tx.QueryRowContext(ctx, `UPDATE store_counters SET value = value + 1
		WHERE name = 'identity_generation' RETURNING value`).Scan(&gen)
	return gen, err
}

// ListIdentities implements IdentityStore.
func (s *sqlStore) ListIdentities(ctx context.Context, poolID, after string, limit int) ([]IdentityRecord, error) {
	const op = "ListIdentities"
	if limit <= 0 {
		return nil, newError(op, ErrInvalid, nil)
	}
	if !validText(poolID) || !validText(after) {
		return nil, nil
	}
	scan := func(rows *sql.Rows) (IdentityRecord, error) {
		var r IdentityRecord
		var createdAt, lastSeenAt int64
		err := rows.Scan(&r.ID, &r.PoolID, &r.Provider, &r.Subject, &createdAt, &lastSeenAt)
		r.CreatedAt, r.LastSeenAt = fromNanos(createdAt), fromNanos(lastSeenAt)
		return r, err
	}
	return query(ctx, s, op, scan, `SELECT id, pool_id, provider, subject, created_at, last_seen_at
		FROM identities WHERE pool_id = $1 AND id > $2 ORDER BY id LIMIT $3`, poolID, after, limit)
}

// DeleteIdentity implements IdentityStore.
func (s *sqlStore) DeleteIdentity(ctx context.Context, id string) error {
	const op = "DeleteIdentity"
	if !validText(id) {
		return newError(op, ErrNotFound, nil)
	}
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM identity_links WHERE identity_id = $1`, id); err != nil {
			return err
		}
		_, err = bumpIdentityGeneration(ctx, tx)
		return err
	})
	if err != nil {
		return s.classify(op, err)
	}
	if n == 0 {
		return newError(op, ErrNotFound, nil)
	}
	return nil
}
