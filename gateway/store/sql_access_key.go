package store

import (
	"context"
	"database/sql"
	"time"
)

const accessKeyColumns = `id, name, role, pool_id, sealed, disabled, created_by, created_at, rotated_at, last_used_at`

// CreateAccessKey implements AccessKeyStore.
func (s *sqlStore) CreateAccessKey(ctx context.Context, k AccessKey) error {
	const op = "CreateAccessKey"
	if err := checkAccessKey(k); err != nil {
		return newError(op, ErrInvalid, err)
	}
	rotated, used := k.RotatedAt, k.LastUsedAt
	if rotated.IsZero() {
		rotated = k.CreatedAt
	}
	disabled := 0
	if k.Disabled {
		disabled = 1
	}
	_, err := s.exec(ctx, op, `INSERT INTO access_keys (`+accessKeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		k.ID, k.Name, k.Role, k.PoolID, k.Sealed, disabled, k.CreatedBy, toNanos(k.CreatedAt), toNanos(rotated), toNanosOrZero(used))
	return err
}

func toNanosOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toNanos(t)
}

func fromNanosOrZero(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromNanos(n)
}

func scanAccessKey(row scanner) (AccessKey, error) {
	var k AccessKey
	var disabled, created, rotated, used int64
	err := row.Scan(&k.ID, &k.Name, &k.Role, &k.PoolID, &k.Sealed, &disabled, &k.CreatedBy, &created, &rotated, &used)
	k.Disabled = disabled != 0
	k.CreatedAt, k.RotatedAt, k.LastUsedAt = fromNanos(created), fromNanos(rotated), fromNanosOrZero(used)
	return k, err
}

// GetAccessKey implements AccessKeyStore.
func (s *sqlStore) GetAccessKey(ctx context.Context, id string) (*AccessKey, error) {
	const op = "GetAccessKey"
	if !validText(id) {
		return nil, newError(op, ErrNotFound, nil)
	}
	k, err := scanAccessKey(s.reader.QueryRowContext(ctx, `SELECT `+accessKeyColumns+` FROM access_keys WHERE id = $1`, id))
	if err != nil {
		return nil, s.classify(op, err)
	}
	return &k, nil
}

// ListAccessKeys implements AccessKeyStore.
func (s *sqlStore) ListAccessKeys(ctx context.Context) ([]AccessKey, error) {
	scan := func(rows *sql.Rows) (AccessKey, error) { return scanAccessKey(rows) }
	return query(ctx, s, "ListAccessKeys", scan, `SELECT `+accessKeyColumns+` FROM access_keys ORDER BY created_at, id`)
}

// updateAccessKey runs one UPDATE of a key by id; no row is ErrNotFound.
func (s *sqlStore) updateAccessKey(ctx context.Context, op, q string, id string, args ...any) error {
	if !validText(id) {
		return newError(op, ErrNotFound, nil)
	}
	n, err := s.exec(ctx, op, q, append([]any{id}, args...)...)
	if err != nil {
		return err
	}
	if n == 0 {
		return newError(op, ErrNotFound, nil)
	}
	return nil
}

// SetAccessKeyDisabled implements AccessKeyStore.
func (s *sqlStore) SetAccessKeyDisabled(ctx context.Context, id string, disabled bool) error {
	v := 0
	if disabled {
		v = 1
	}
	return s.updateAccessKey(ctx, "SetAccessKeyDisabled", `UPDATE access_keys SET disabled = $2 WHERE id = $1`, id, v)
}

// RotateAccessKey implements AccessKeyStore.
func (s *sqlStore) RotateAccessKey(ctx context.Context, id string, sealed []byte, at time.Time) error {
	const op = "RotateAccessKey"
	if len(sealed) == 0 || at.IsZero() {
		return newError(op, ErrInvalid, nil)
	}
	return s.updateAccessKey(ctx, op, `UPDATE access_keys SET sealed = $2, rotated_at = $3 WHERE id = $1`, id, sealed, toNanos(at))
}

// DeleteAccessKey implements AccessKeyStore.
func (s *sqlStore) DeleteAccessKey(ctx context.Context, id string) error {
	return s.updateAccessKey(ctx, "DeleteAccessKey", `DELETE FROM access_keys WHERE id = $1`, id)
}

// TouchAccessKey implements AccessKeyStore: last_used_at never moves back.
func (s *sqlStore) TouchAccessKey(ctx context.Context, id string, at time.Time) error {
	if !validText(id) {
		return nil
	}
	_, err := s.writer.ExecContext(ctx, `UPDATE access_keys SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1`, toNanos(at), id)
	return s.classify("TouchAccessKey", err)
}
