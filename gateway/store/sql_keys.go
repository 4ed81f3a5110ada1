package store

import (
	"context"
	"database/sql"
	"time"
)

// keyRing is the KeyStore contract over one table: signing_keys for the
// token issuer, saml_signing_keys for the SAML broker, so neither ring's
// rotation retires the other's keys.
type keyRing struct {
	s     *sqlStore
	table string    // one of the two above, never caller input
	ops   [4]string // the operation names errors carry: list, add, retire, delete
}

func (s *sqlStore) issuerKeys() keyRing {
	return keyRing{s, "signing_keys",
		[4]string{"ListSigningKeys", "AddSigningKey", "RetireSigningKeys", "DeleteSigningKeysRetiredBefore"}}
}

// SAMLSigningKeys implements Store.
func (s *sqlStore) SAMLSigningKeys() KeyStore {
	return keyRing{s, "saml_signing_keys",
		[4]string{"SAMLSigningKeys.List", "SAMLSigningKeys.Add", "SAMLSigningKeys.Retire", "SAMLSigningKeys.DeleteRetiredBefore"}}
}

// ListSigningKeys implements KeyStore for the issuer's ring.
func (s *sqlStore) ListSigningKeys(ctx context.Context) ([]StoredKey, error) {
	return s.issuerKeys().ListSigningKeys(ctx)
}

// AddSigningKey implements KeyStore for the issuer's ring.
func (s *sqlStore) AddSigningKey(ctx context.Context, k StoredKey) error {
	return s.issuerKeys().AddSigningKey(ctx, k)
}

// RetireSigningKeys implements KeyStore for the issuer's ring.
func (s *sqlStore) RetireSigningKeys(ctx context.Context, exceptID string, at time.Time) error {
	return s.issuerKeys().RetireSigningKeys(ctx, exceptID, at)
}

// DeleteSigningKeysRetiredBefore implements KeyStore for the issuer's ring.
func (s *sqlStore) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	return s.issuerKeys().DeleteSigningKeysRetiredBefore(ctx, t)
}

// ListSigningKeys returns the ring's keys, oldest first.
func (r keyRing) ListSigningKeys(ctx context.Context) ([]StoredKey, error) {
	return query(ctx, r.s, r.ops[0], scanKey, `SELECT id, algorithm, sealed, created_at, retired_at
		FROM `+r.table+` ORDER BY created_at, id`)
}

func scanKey(row *sql.Rows) (StoredKey, error) {
	var k StoredKey
	var createdAt int64
	var retiredAt sql.NullInt64
	err := row.Scan(&k.ID, &k.Algorithm, &k.Sealed, &createdAt, &retiredAt)
	k.CreatedAt = fromNanos(createdAt)
	if retiredAt.Valid {
		k.RetiredAt = fromNanos(retiredAt.Int64)
	}
	return k, err
}

// AddSigningKey adds a key to the ring.
func (r keyRing) AddSigningKey(ctx context.Context, k StoredKey) error {
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
	_, err := r.s.writer.ExecContext(ctx, `INSERT INTO `+r.table+` (id, algorithm, sealed, created_at, retired_at)
		VALUES ($1, $2, $3, $4, $5)`, k.ID, k.Algorithm, k.Sealed, toNanos(k.CreatedAt), retiredAt)
	return r.s.classify(op, err)
}

// RetireSigningKeys retires every active key but exceptID at at.
func (r keyRing) RetireSigningKeys(ctx context.Context, exceptID string, at time.Time) error {
	if !validText(exceptID) {
		exceptID = "" // no key has such an id (AddSigningKey refuses it): retire them all
	}
	_, err := r.s.writer.ExecContext(ctx, `UPDATE `+r.table+` SET retired_at = $1
		WHERE retired_at IS NULL AND id <> $2`, toNanos(at), exceptID)
	return r.s.classify(r.ops[2], err)
}

// DeleteSigningKeysRetiredBefore deletes keys retired before t.
func (r keyRing) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	_, err := r.s.writer.ExecContext(ctx, `DELETE FROM `+r.table+`
		WHERE retired_at IS NOT NULL AND retired_at < $1`, toNanos(t))
	return r.s.classify(r.ops[3], err)
}
