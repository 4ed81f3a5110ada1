package store

import (
	"context"
	"database/sql"
	"time"
)

// ListSigningKeys implements KeyStore, oldest first.
func (s *SQLite) ListSigningKeys(ctx context.Context) ([]StoredKey, error) {
	const op = "ListSigningKeys"
	rows, err := s.reader.QueryContext(ctx, `SELECT id, algorithm, sealed, created_at, retired_at
		FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, classify(op, err)
	}
	defer rows.Close()
	var keys []StoredKey
	for rows.Next() {
		var k StoredKey
		var createdAt int64
		var retiredAt sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Sealed, &createdAt, &retiredAt); err != nil {
			return nil, classify(op, err)
		}
		k.CreatedAt = fromNanos(createdAt)
		if retiredAt.Valid {
			k.RetiredAt = fromNanos(retiredAt.Int64)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(op, err)
	}
	return keys, nil
}

// AddSigningKey implements KeyStore: a duplicate id is ErrConflict, a zero
// CreatedAt is stamped with the store's clock.
func (s *SQLite) AddSigningKey(ctx context.Context, k StoredKey) error {
	const op = "AddSigningKey"
	if err := checkKey(k); err != nil {
		return newError(op, ErrInvalid, err)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	var retiredAt sql.NullInt64
	if !k.RetiredAt.IsZero() {
		retiredAt = sql.NullInt64{Int64: toNanos(k.RetiredAt), Valid: true}
	}
	_, err := s.writer.ExecContext(ctx, `INSERT INTO signing_keys (id, algorithm, sealed, created_at, retired_at)
		VALUES (?, ?, ?, ?, ?)`, k.ID, k.Algorithm, k.Sealed, toNanos(k.CreatedAt), retiredAt)
	return classify(op, err)
}

// RetireSigningKeys implements KeyStore: every active key but exceptID is
// retired at at; keys already retired keep their original time.
func (s *SQLite) RetireSigningKeys(ctx context.Context, exceptID string, at time.Time) error {
	_, err := s.writer.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ?
		WHERE retired_at IS NULL AND id <> ?`, toNanos(at), exceptID)
	return classify("RetireSigningKeys", err)
}

// DeleteSigningKeysRetiredBefore implements KeyStore; active keys are never deleted.
func (s *SQLite) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	_, err := s.writer.ExecContext(ctx, `DELETE FROM signing_keys
		WHERE retired_at IS NOT NULL AND retired_at < ?`, toNanos(t))
	return classify("DeleteSigningKeysRetiredBefore", err)
}
