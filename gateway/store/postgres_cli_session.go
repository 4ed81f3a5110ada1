package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// CreateCLISession implements CLISessionStore.
func (s *PostgreSQL) CreateCLISession(ctx context.Context, cs CLISession) error {
	const op = "CreateCLISession"
	if err := checkCLISession(cs); err != nil {
		return newError(op, ErrInvalid, err)
	}
	now := toNanos(s.now())
	if toNanos(cs.ExpiresAt) <= now {
		return newError(op, ErrInvalid, errors.New("session already expired"))
	}
	last := cs.LastUsedAt
	if last.IsZero() {
		last = cs.CreatedAt
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM cli_sessions WHERE provider = $1 AND subject = $2 AND expires_at <= $3`,
			cs.Owner.Provider, cs.Owner.Subject, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO cli_sessions
			(id, token_hash, provider, subject, pool_id, method, client, sealed, created_at, expires_at, last_used_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			cs.ID, cs.TokenHash, cs.Owner.Provider, cs.Owner.Subject, cs.PoolID, cs.Method, cs.Client, cs.Sealed,
			toNanos(cs.CreatedAt), toNanos(cs.ExpiresAt), toNanos(last))
		return err
	})
	return classifyPG(op, err)
}

// GetCLISession implements CLISessionStore.
func (s *PostgreSQL) GetCLISession(ctx context.Context, tokenHash string, now time.Time) (*CLISession, error) {
	if !validText(tokenHash) { // PostgreSQL would refuse the query; no such hash was ever stored
		return nil, newError("GetCLISession", ErrNotFound, nil)
	}
	cs, err := scanCLISession(s.db.QueryRowContext(ctx, `SELECT `+cliSessionColumns+`
		FROM cli_sessions WHERE token_hash = $1 AND expires_at > $2`, tokenHash, toNanos(now)))
	if err != nil {
		return nil, classifyPG("GetCLISession", err)
	}
	return cs, nil
}

// ListCLISessions implements CLISessionStore.
func (s *PostgreSQL) ListCLISessions(ctx context.Context, owner CLISessionOwner, now time.Time) ([]CLISession, error) {
	const op = "ListCLISessions"
	if !validText(owner.Provider) || !validText(owner.Subject) {
		return nil, ctx.Err()
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+cliSessionColumns+`
		FROM cli_sessions WHERE provider = $1 AND subject = $2 AND expires_at > $3
		ORDER BY created_at DESC, id`, owner.Provider, owner.Subject, toNanos(now))
	if err != nil {
		return nil, classifyPG(op, err)
	}
	defer rows.Close()
	var out []CLISession
	for rows.Next() {
		cs, err := scanCLISession(rows)
		if err != nil {
			return nil, classifyPG(op, err)
		}
		out = append(out, *cs)
	}
	return out, classifyPG(op, rows.Err())
}

// DeleteCLISession implements CLISessionStore.
func (s *PostgreSQL) DeleteCLISession(ctx context.Context, owner CLISessionOwner, id string) error {
	const op = "DeleteCLISession"
	if !validText(id) || !validText(owner.Provider) || !validText(owner.Subject) {
		return newError(op, ErrNotFound, nil)
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM cli_sessions WHERE id = $1 AND provider = $2 AND subject = $3`,
		id, owner.Provider, owner.Subject)
	if err != nil {
		return classifyPG(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return classifyPG(op, err)
	}
	if n == 0 {
		return newError(op, ErrNotFound, nil)
	}
	return nil
}

// TouchCLISession implements CLISessionStore: last_used_at never moves back.
func (s *PostgreSQL) TouchCLISession(ctx context.Context, id string, at time.Time) error {
	if !validText(id) {
		return nil // an unknown id is no error
	}
	_, err := s.db.ExecContext(ctx, `UPDATE cli_sessions SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1`,
		toNanos(at), id)
	return classifyPG("TouchCLISession", err)
}
