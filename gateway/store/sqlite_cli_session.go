package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// CreateCLISession implements CLISessionStore.
func (s *SQLite) CreateCLISession(ctx context.Context, cs CLISession) error {
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
		if _, err := tx.ExecContext(ctx, `DELETE FROM cli_sessions WHERE provider = ? AND subject = ? AND expires_at <= ?`,
			cs.Owner.Provider, cs.Owner.Subject, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO cli_sessions
			(id, token_hash, provider, subject, pool_id, method, client, sealed, created_at, expires_at, last_used_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			cs.ID, cs.TokenHash, cs.Owner.Provider, cs.Owner.Subject, cs.PoolID, cs.Method, cs.Client, cs.Sealed,
			toNanos(cs.CreatedAt), toNanos(cs.ExpiresAt), toNanos(last))
		return err
	})
	return classify(op, err)
}

const cliSessionColumns = `id, token_hash, provider, subject, pool_id, method, client, sealed, created_at, expires_at, last_used_at`

func scanCLISession(row interface{ Scan(...any) error }) (*CLISession, error) {
	var cs CLISession
	var created, expires, used int64
	if err := row.Scan(&cs.ID, &cs.TokenHash, &cs.Owner.Provider, &cs.Owner.Subject, &cs.PoolID, &cs.Method, &cs.Client,
		&cs.Sealed, &created, &expires, &used); err != nil {
		return nil, err
	}
	cs.CreatedAt, cs.ExpiresAt, cs.LastUsedAt = fromNanos(created), fromNanos(expires), fromNanos(used)
	return &cs, nil
}

// GetCLISession implements CLISessionStore.
func (s *SQLite) GetCLISession(ctx context.Context, tokenHash string, now time.Time) (*CLISession, error) {
	cs, err := scanCLISession(s.reader.QueryRowContext(ctx, `SELECT `+cliSessionColumns+`
		FROM cli_sessions WHERE token_hash = ? AND expires_at > ?`, tokenHash, toNanos(now)))
	if err != nil {
		return nil, classify("GetCLISession", err)
	}
	return cs, nil
}

// ListCLISessions implements CLISessionStore.
func (s *SQLite) ListCLISessions(ctx context.Context, owner CLISessionOwner, now time.Time) ([]CLISession, error) {
	const op = "ListCLISessions"
	rows, err := s.reader.QueryContext(ctx, `SELECT `+cliSessionColumns+`
		FROM cli_sessions WHERE provider = ? AND subject = ? AND expires_at > ?
		ORDER BY created_at DESC, id`, owner.Provider, owner.Subject, toNanos(now))
	if err != nil {
		return nil, classify(op, err)
	}
	defer rows.Close()
	var out []CLISession
	for rows.Next() {
		cs, err := scanCLISession(rows)
		if err != nil {
			return nil, classify(op, err)
		}
		out = append(out, *cs)
	}
	return out, classify(op, rows.Err())
}

// DeleteCLISession implements CLISessionStore.
func (s *SQLite) DeleteCLISession(ctx context.Context, owner CLISessionOwner, id string) error {
	const op = "DeleteCLISession"
	res, err := s.writer.ExecContext(ctx, `DELETE FROM cli_sessions WHERE id = ? AND provider = ? AND subject = ?`,
		id, owner.Provider, owner.Subject)
	if err != nil {
		return classify(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return classify(op, err)
	}
	if n == 0 {
		return newError(op, ErrNotFound, nil)
	}
	return nil
}

// TouchCLISession implements CLISessionStore.
func (s *SQLite) TouchCLISession(ctx context.Context, id string, at time.Time) error {
	const op = "TouchCLISession"
	res, err := s.writer.ExecContext(ctx, `UPDATE cli_sessions SET last_used_at = ? WHERE id = ? AND last_used_at < ?`,
		toNanos(at), id, toNanos(at))
	if err != nil {
		return classify(op, err)
	}
	if _, err := res.RowsAffected(); err != nil {
		return classify(op, err)
	}
	return nil
}
