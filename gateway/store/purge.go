package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// PurgeStore deletes what unauthenticated callers leave behind, a batch at
// a time, so that a purge never holds a long transaction (or SQLite's one
// writer) while requests wait: expired short-lived entries (sign-in flows,
// device codes, ...) and guest identities nobody has used for a while.
type PurgeStore interface {
	// PurgeExpiredBatch deletes at most limit entries expired at now and
	// says how many it deleted; fewer than limit means none is left.
	PurgeExpiredBatch(ctx context.Context, now time.Time, limit int) (int64, error)
	// PurgeIdleIdentities deletes at most limit identities of pool and
	// provider last seen before idleBefore, and says how many.
	PurgeIdleIdentities(ctx context.Context, poolID, provider string, idleBefore time.Time, limit int) (int64, error)
	// TouchIdentity records a use of the identity (LastSeenAt = at, never
	// moving back, to within a minute); an unknown id is no error.
	TouchIdentity(ctx context.Context, id string, at time.Time) error
}

func checkLimit(limit int) error {
	if limit < 1 {
		return errors.New("a purge batch needs a limit of at least 1")
	}
	return nil
}

// PurgeExpiredBatch implements PurgeStore. The subquery picks the batch
// through the expiry index; a row a concurrent replica deleted first is
// simply not counted.
func (s *sqlStore) PurgeExpiredBatch(ctx context.Context, now time.Time, limit int) (int64, error) {
	const op = "PurgeExpiredBatch"
	if err := checkLimit(limit); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	return s.exec(ctx, op, `DELETE FROM ephemeral WHERE key_hash IN
		(SELECT key_hash FROM ephemeral WHERE expires_at <= $1 LIMIT $2)`, toNanos(now), limit)
}

// PurgeIdleIdentities implements PurgeStore.
func (s *sqlStore) PurgeIdleIdentities(ctx context.Context, poolID, provider string, idleBefore time.Time, limit int) (int64, error) {
	const op = "PurgeIdleIdentities"
	if err := checkLimit(limit); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	if poolID == "" || provider == "" || checkText(poolID, provider) != nil {
		return 0, newError(op, ErrInvalid, errors.New("a purge needs a pool and a provider"))
	}
	// Deleted identities move the identity generation in the same
	// transaction, so no replica's cache keeps serving them.
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE id IN
			(SELECT id FROM identities WHERE pool_id = $1 AND provider = $2 AND last_seen_at < $3 LIMIT $4)`,
			poolID, provider, toNanos(idleBefore), limit)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = bumpIdentityGeneration(ctx, tx)
		return err
	})
	if err != nil {
		return 0, s.classify(op, err)
	}
	return n, nil
}

// TouchIdentity implements PurgeStore: no write when the recorded time is
// within lastSeenResolution of at.
func (s *sqlStore) TouchIdentity(ctx context.Context, id string, at time.Time) error {
	const op = "TouchIdentity"
	if !validText(id) {
		return nil // no such id was ever stored
	}
	t := toNanos(at)
	_, err := s.exec(ctx, op, `UPDATE identities SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $3`,
		t, id, t-int64(lastSeenResolution))
	return err
}
