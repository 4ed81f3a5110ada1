package store

import (
	"context"
	"database/sql"
	"errors"
)

// touchIdentity records a sign-in through a linked login (last_seen_at
// never moves back).
func (s *sqlStore) touchIdentity(ctx context.Context, id string, now int64) error {
	_, err := s.writer.ExecContext(ctx, `UPDATE identities SET last_seen_at = `+s.d.greatest("last_seen_at", "$1")+` WHERE id = $2`, now, id)
	return s.classify("GetOrCreateIdentity", err)
}

// loginLock names the lock that orders every write giving login k an
// identity. Logins whose names collide only wait for each other.
func loginLock(k IdentityKey) string {
	return "fedgate:login:" + k.PoolID + "/" + k.Provider + "/" + k.Subject
}

// ownerOf is the identity k belongs to, in tx; "" when none.
func ownerOf(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, k IdentityKey) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM identities WHERE pool_id = $1 AND provider = $2 AND subject = $3`,
		k.PoolID, k.Provider, k.Subject).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRowContext(ctx, `SELECT identity_id FROM identity_links WHERE pool_id = $1 AND provider = $2 AND subject = $3`,
			k.PoolID, k.Provider, k.Subject).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// IdentityOfLogin implements IdentityLinkStore.
func (s *sqlStore) IdentityOfLogin(ctx context.Context, k IdentityKey) (string, error) {
	const op = "IdentityOfLogin"
	if checkIdentityKey(k) != nil {
		return "", newError(op, ErrNotFound, nil)
	}
	id, err := ownerOf(ctx, s.reader, k)
	if err != nil {
		return "", s.classify(op, err)
	}
	if id == "" {
		return "", newError(op, ErrNotFound, nil)
	}
	return id, nil
}

// LoginsOf implements IdentityLinkStore.
func (s *sqlStore) LoginsOf(ctx context.Context, id string) ([]IdentityKey, error) {
	const op = "LoginsOf"
	if !validText(id) {
		return nil, newError(op, ErrNotFound, nil)
	}
	var first IdentityKey
	err := s.reader.QueryRowContext(ctx, `SELECT pool_id, provider, subject FROM identities WHERE id = $1`, id).
		Scan(&first.PoolID, &first.Provider, &first.Subject)
	if err != nil {
		return nil, s.classify(op, err)
	}
	var out []IdentityKey
	if first.Provider != GuestProvider && first.Provider != UnlinkedProvider {
		out = append(out, first)
	}
	scan := func(rows *sql.Rows) (IdentityKey, error) {
		var k IdentityKey
		return k, rows.Scan(&k.PoolID, &k.Provider, &k.Subject)
	}
	links, err := query(ctx, s, op, scan, `SELECT pool_id, provider, subject FROM identity_links
		WHERE identity_id = $1 ORDER BY linked_at, provider, subject`, id)
	return append(out, links...), err
}

// identityRow reads an identity's pool and first login in tx.
func identityRow(ctx context.Context, tx *sql.Tx, id string) (IdentityKey, error) {
	var k IdentityKey
	err := tx.QueryRowContext(ctx, `SELECT pool_id, provider, subject FROM identities WHERE id = $1`, id).
		Scan(&k.PoolID, &k.Provider, &k.Subject)
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	return k, err
}

// LinkLogin implements IdentityLinkStore.
func (s *sqlStore) LinkLogin(ctx context.Context, id string, k IdentityKey) error {
	const op = "LinkLogin"
	if err := checkIdentityKey(k); err != nil || !validText(id) {
		return newError(op, ErrInvalid, err)
	}
	now := toNanos(s.now())
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.d.lockTx(ctx, tx, loginLock(k)); err != nil {
			return err
		}
		row, err := identityRow(ctx, tx, id)
		if err != nil {
			return err
		}
		if row.PoolID != k.PoolID {
			return ErrInvalid
		}
		owner, err := ownerOf(ctx, tx, k)
		switch {
		case err != nil:
			return err
		case owner == id:
			return nil
		case owner != "":
			return ErrConflict
		case row.Provider == GuestProvider || row.Provider == UnlinkedProvider:
			// The login becomes the identity's first: a guest is a guest no more.
			_, err = tx.ExecContext(ctx, `UPDATE identities SET provider = $1, subject = $2, last_seen_at = `+s.d.greatest("last_seen_at", "$3")+`
				WHERE id = $4`, k.Provider, k.Subject, now, id)
		default:
			_, err = tx.ExecContext(ctx, `INSERT INTO identity_links (pool_id, provider, subject, identity_id, linked_at)
				VALUES ($1, $2, $3, $4, $5)`, k.PoolID, k.Provider, k.Subject, id, now)
		}
		if err != nil {
			return err
		}
		_, err = bumpIdentityGeneration(ctx, tx)
		return err
	})
	return s.linkError(op, err)
}

func (s *sqlStore) linkError(op string, err error) error {
	for _, kind := range []error{ErrNotFound, ErrInvalid, ErrConflict} {
		if errors.Is(err, kind) {
			return newError(op, kind, nil)
		}
	}
	return s.classify(op, err)
}

// UnlinkLogin implements IdentityLinkStore.
func (s *sqlStore) UnlinkLogin(ctx context.Context, id string, k IdentityKey) error {
	const op = "UnlinkLogin"
	if checkIdentityKey(k) != nil || !validText(id) {
		return newError(op, ErrNotFound, nil)
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM identity_links WHERE pool_id = $1 AND provider = $2 AND subject = $3 AND identity_id = $4`,
			k.PoolID, k.Provider, k.Subject, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			// Its first login: the row keeps the identity, under a marker.
			res, err = tx.ExecContext(ctx, `UPDATE identities SET provider = $1, subject = $2
				WHERE id = $2 AND pool_id = $3 AND provider = $4 AND subject = $5`, UnlinkedProvider, id, k.PoolID, k.Provider, k.Subject)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return errors.Join(err, ErrNotFound)
			}
		}
		_, err = bumpIdentityGeneration(ctx, tx)
		return err
	})
	return s.linkError(op, err)
}

// MergeIdentity implements IdentityLinkStore.
func (s *sqlStore) MergeIdentity(ctx context.Context, from, into string) error {
	const op = "MergeIdentity"
	if !validText(from) || !validText(into) {
		return newError(op, ErrNotFound, nil)
	}
	if from == into {
		return newError(op, ErrInvalid, nil)
	}
	now := toNanos(s.now())
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		src, err := identityRow(ctx, tx, from)
		if err != nil {
			return err
		}
		// The first login moves from identities to identity_links: a
		// sign-in with it must not fall between the two.
		if src.Provider != GuestProvider && src.Provider != UnlinkedProvider {
			if err := s.d.lockTx(ctx, tx, loginLock(src)); err != nil {
				return err
			}
			if src, err = identityRow(ctx, tx, from); err != nil {
				return err
			}
		}
		dst, err := identityRow(ctx, tx, into)
		if err != nil {
			return err
		}
		if src.PoolID != dst.PoolID {
			return ErrInvalid
		}
		if _, err := tx.ExecContext(ctx, `UPDATE identity_links SET identity_id = $1 WHERE identity_id = $2`, into, from); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE id = $1`, from); err != nil {
			return err
		}
		if _, err := bumpIdentityGeneration(ctx, tx); err != nil {
			return err
		}
		if src.Provider == GuestProvider || src.Provider == UnlinkedProvider {
			return nil
		}
		if dst.Provider == GuestProvider || dst.Provider == UnlinkedProvider {
			_, err = tx.ExecContext(ctx, `UPDATE identities SET provider = $1, subject = $2 WHERE id = $3`, src.Provider, src.Subject, into)
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO identity_links (pool_id, provider, subject, identity_id, linked_at)
			VALUES ($1, $2, $3, $4, $5)`, src.PoolID, src.Provider, src.Subject, into, now)
		return err
	})
	return s.linkError(op, err)
}
