package store

import (
	"context"
	"database/sql"
	"time"
)

// sqliteSAMLKeys is the SAML broker's key ring: the KeyStore contract over
// its own table, so the issuer's and the broker's rotations stay apart.
type sqliteSAMLKeys struct{ s *SQLite }

// SAMLSigningKeys implements Store.
func (s *SQLite) SAMLSigningKeys() KeyStore { return sqliteSAMLKeys{s} }

// ListSigningKeys returns the broker keys, oldest first.
func (k sqliteSAMLKeys) ListSigningKeys(ctx context.Context) ([]StoredKey, error) {
	const op = "SAMLSigningKeys.List"
	rows, err := k.s.reader.QueryContext(ctx, `SELECT id, algorithm, sealed, created_at, retired_at
		FROM saml_signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, classify(op, err)
	}
	defer rows.Close()
	var keys []StoredKey
	for rows.Next() {
		var key StoredKey
		var createdAt int64
		var retiredAt sql.NullInt64
		if err := rows.Scan(&key.ID, &key.Algorithm, &key.Sealed, &createdAt, &retiredAt); err != nil {
			return nil, classify(op, err)
		}
		key.CreatedAt = fromNanos(createdAt)
		if retiredAt.Valid {
			key.RetiredAt = fromNanos(retiredAt.Int64)
		}
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(op, err)
	}
	return keys, nil
}

// AddSigningKey adds a broker key: a duplicate id is ErrConflict, a zero
// CreatedAt is stamped with the store's clock.
func (k sqliteSAMLKeys) AddSigningKey(ctx context.Context, key StoredKey) error {
	const op = "SAMLSigningKeys.Add"
	if err := checkKey(key); err != nil {
		return newError(op, ErrInvalid, err)
	}
	if key.CreatedAt.IsZero() {
		key.CreatedAt = k.s.now()
	}
	var retiredAt sql.NullInt64
	if !key.RetiredAt.IsZero() {
		retiredAt = sql.NullInt64{Int64: toNanos(key.RetiredAt), Valid: true}
	}
	_, err := k.s.writer.ExecContext(ctx, `INSERT INTO saml_signing_keys (id, algorithm, sealed, created_at, retired_at)
		VALUES (?, ?, ?, ?, ?)`, key.ID, key.Algorithm, key.Sealed, toNanos(key.CreatedAt), retiredAt)
	return classify(op, err)
}

// RetireSigningKeys retires every active broker key but exceptID at at.
func (k sqliteSAMLKeys) RetireSigningKeys(ctx context.Context, exceptID string, at time.Time) error {
	_, err := k.s.writer.ExecContext(ctx, `UPDATE saml_signing_keys SET retired_at = ?
		WHERE retired_at IS NULL AND id <> ?`, toNanos(at), exceptID)
	return classify("SAMLSigningKeys.Retire", err)
}

// DeleteSigningKeysRetiredBefore deletes broker keys retired before t.
func (k sqliteSAMLKeys) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	_, err := k.s.writer.ExecContext(ctx, `DELETE FROM saml_signing_keys
		WHERE retired_at IS NOT NULL AND retired_at < ?`, toNanos(t))
	return classify("SAMLSigningKeys.DeleteRetiredBefore", err)
}
