package store

import (
	"context"
	"database/sql"
	"time"
)

// pgKeyRing is the KeyStore contract over one table: signing_keys for the
// token issuer, saml_signing_keys for the SAML broker, so neither ring's
// rotation retires the other's keys.
type pgKeyRing struct {
	s     *PostgreSQL
	table string // a constant below, never caller input
	ops   [4]string
}

var (
	pgIssuerKeys = pgKeyRing{table: "signing_keys",
		ops: [4]string{"ListSigningKeys", "AddSigningKey", "RetireSigningKeys", "DeleteSigningKeysRetiredBefore"}}
	pgSAMLKeys = pgKeyRing{table: "saml_signing_keys",
		ops: [4]string{"SAMLSigningKeys.List", "SAMLSigningKeys.Add", "SAMLSigningKeys.Retire", "SAMLSigningKeys.DeleteRetiredBefore"}}
)

func (s *PostgreSQL) ring(r pgKeyRing) pgKeyRing { r.s = s; return r }

// SAMLSigningKeys implements Store.
func (s *PostgreSQL) SAMLSigningKeys() KeyStore { return s.ring(pgSAMLKeys) }

// ListSigningKeys implements KeyStore, oldest first.
func (s *PostgreSQL) ListSigningKeys(ctx context.Context) ([]StoredKey, error) {
	return s.ring(pgIssuerKeys).ListSigningKeys(ctx)
}

// AddSigningKey implements KeyStore: a duplicate id is ErrConflict, a zero
// CreatedAt is stamped with the store's clock.
func (s *PostgreSQL) AddSigningKey(ctx context.Context, k StoredKey) error {
	return s.ring(pgIssuerKeys).AddSigningKey(ctx, k)
}

// RetireSigningKeys implements KeyStore.
func (s *PostgreSQL) RetireSigningKeys(ctx context.Context, exceptID string, at time.Time) error {
	return s.ring(pgIssuerKeys).RetireSigningKeys(ctx, exceptID, at)
}

// DeleteSigningKeysRetiredBefore implements KeyStore.
func (s *PostgreSQL) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	return s.ring(pgIssuerKeys).DeleteSigningKeysRetiredBefore(ctx, t)
}

// ListSigningKeys returns the ring's keys, oldest first.
func (r pgKeyRing) ListSigningKeys(ctx context.Context) ([]StoredKey, error) {
	op := r.ops[0]
	rows, err := r.s.db.QueryContext(ctx, `SELECT id, algorithm, sealed, created_at, retired_at
		FROM `+r.table+` ORDER BY created_at, id`)
	if err != nil {
		return nil, classifyPG(op, err)
	}
	defer rows.Close()
	var keys []StoredKey
	for rows.Next() {
		var k StoredKey
		var createdAt int64
		var retiredAt sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Sealed, &createdAt, &retiredAt); err != nil {
			return nil, classifyPG(op, err)
		}
		k.CreatedAt = fromNanos(createdAt)
		if retiredAt.Valid {
			k.RetiredAt = fromNanos(retiredAt.Int64)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, classifyPG(op, err)
	}
	return keys, nil
}

// AddSigningKey adds a key to the ring.
func (r pgKeyRing) AddSigningKey(ctx context.Context, k StoredKey) error {
	op := r.ops[1]
	if err := checkKey(k); err != nil {
		return newError(op, ErrInvalid, err)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = r.s.now()
	}
	var retiredAt sql.NullInt64
	if !k.RetiredAt.IsZero() {
		retiredAt = sql.NullInt64{Int64: toNanos(k.RetiredAt), Valid: true}
	}
	_, err := r.s.db.ExecContext(ctx, `INSERT INTO `+r.table+` (id, algorithm, sealed, created_at, retired_at)
		VALUES ($1, $2, $3, $4, $5)`, k.ID, k.Algorithm, k.Sealed, toNanos(k.CreatedAt), retiredAt)
	return classifyPG(op, err)
}

// RetireSigningKeys retires every active key but exceptID at at; keys
// already retired keep their original time.
func (r pgKeyRing) RetireSigningKeys(ctx context.Context, exceptID string, at time.Time) error {
	if !validText(exceptID) {
		exceptID = "" // no key has such an id (AddSigningKey refuses it): retire them all
	}
	_, err := r.s.db.ExecContext(ctx, `UPDATE `+r.table+` SET retired_at = $1
		WHERE retired_at IS NULL AND id <> $2`, toNanos(at), exceptID)
	return classifyPG(r.ops[2], err)
}

// DeleteSigningKeysRetiredBefore deletes keys retired before t; active keys
// are never deleted.
func (r pgKeyRing) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	_, err := r.s.db.ExecContext(ctx, `DELETE FROM `+r.table+`
		WHERE retired_at IS NOT NULL AND retired_at < $1`, toNanos(t))
	return classifyPG(r.ops[3], err)
}
