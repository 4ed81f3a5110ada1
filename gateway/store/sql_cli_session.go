package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

const cliSessionColumns = `id, token_hash, provider, subject, pool_id, method, client, sealed, created_at, expires_at, last_used_at`

// CreateCLISession implements CLISessionStore.
func (s *sqlStore) CreateCLISession(ctx context.Context, cs CLISession) error {
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
		_, err := tx.ExecContext(ctx, `INSERT INTO cli_sessions (`+cliSessionColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			cs.ID, cs.TokenHash, cs.Owner.Provider, cs.Owner.Subject, cs.PoolID, cs.Method, cs.Client, cs.Sealed,
			toNanos(cs.CreatedAt), toNanos(cs.ExpiresAt), toNanos(last))
		return err
	})
	return s.classify(op, err)
}

func scanCLISession(row scanner) (CLISession, error) {
	var cs CLISession
	var created, expires, used int64
	err := row.Scan(&cs.ID, &cs.TokenHash, &cs.Owner.Provider, &cs.Owner.Subject, &cs.PoolID, &cs.Method, &cs.Client,
		&cs.Sealed, &created, &expires, &used)
	cs.CreatedAt, cs.ExpiresAt, cs.LastUsedAt = fromNanos(created), fromNanos(expires), fromNanos(used)
	return cs, err
}

// Lookups by text that no write could have stored (NUL, invalid UTF-8: see
// checkText) find nothing without asking the database, which PostgreSQL
// would answer with an error.

// GetCLISession implements CLISessionStore.
func (s *sqlStore) GetCLISession(ctx context.Context, tokenHash string, now time.Time) (*CLISession, error) {
	const op = "GetCLISession"
	if !validText(tokenHash) {
		return nil, newError(op, ErrNotFound, nil)
	}
	cs, err := scanCLISession(s.reader.QueryRowContext(ctx, `SELECT `+cliSessionColumns+`
		FROM cli_sessions WHERE token_hash = $1 AND expires_at > $2`, tokenHash, toNanos(now)))
	if err != nil {
		return nil, s.classify(op, err)
	}
	return &cs, nil
}

// ListCLISessions implements CLISessionStore.
func (s *sqlStore) ListCLISessions(ctx context.Context, owner CLISessionOwner, now time.Time) ([]CLISession, error) {
	if !validText(owner.Provider) || !validText(owner.Subject) {
		return nil, ctx.Err()
	}
	scan := func(rows *sql.Rows) (CLISession, error) { return scanCLISession(rows) }
	return query(ctx, s, "ListCLISessions", scan, `SELECT `+cliSessionColumns+`
		FROM cli_sessions WHERE provider = $1 AND subject = $2 AND expires_at > $3
		ORDER BY created_at DESC, id`, owner.Provider, owner.Subject, toNanos(now))
}

// DeleteCLISession implements CLISessionStore.
func (s *sqlStore) DeleteCLISession(ctx context.Context, owner CLISessionOwner, id string) error {
	const op = "DeleteCLISession"
	if !validText(id) || !validText(owner.Provider) || !validText(owner.Subject) {
		return newError(op, ErrNotFound, nil)
	}
	n, err := s.exec(ctx, op, `DELETE FROM cli_sessions WHERE id = $1 AND provider = $2 AND subject = $3`,
		id, owner.Provider, owner.Subject)
	if err != nil {
		return err
	}
	if n == 0 {
		return newError(op, ErrNotFound, nil)
	}
	return nil
}

// TouchCLISession implements CLISessionStore: last_used_at never moves back.
func (s *sqlStore) TouchCLISession(ctx context.Context, id string, at time.Time) error {
	if !validText(id) {
		return nil // an unknown id is no error
	}
	_, err := s.writer.ExecContext(ctx, `UPDATE cli_sessions SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1`,
		toNanos(at), id)
	return s.classify("TouchCLISession", err)
}
