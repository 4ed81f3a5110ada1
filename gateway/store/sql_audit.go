package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

const auditColumns = `id, at, kind, actor, identity_id, provider, subject, pool, role, source, request_id, result, reason, version`

// AppendAudit implements AuditStore.
func (s *sqlStore) AppendAudit(ctx context.Context, e AuditEntry) (int64, error) {
	const op = "AppendAudit"
	if err := checkAuditEntry(e); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	id, err := s.insertAudit(ctx, s.writer, e)
	if err != nil {
		return 0, s.classify(op, err)
	}
	return id, nil
}

// rowQuerier is a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *sqlStore) insertAudit(ctx context.Context, q rowQuerier, e AuditEntry) (int64, error) {
	e = clipAudit(e)
	at := s.now()
	if !e.Time.IsZero() {
		at = e.Time
	}
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO audit_log (at, kind, actor, identity_id, provider, subject, pool, role, source, request_id, result, reason, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		toNanos(at), e.Kind, e.Actor, e.IdentityID, e.Provider, e.Subject, e.Pool, e.Role, e.Source, e.RequestID, e.Result, e.Reason, e.Version).Scan(&id)
	return id, err
}

// ListAudit implements AuditStore.
func (s *sqlStore) ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	const op = "ListAudit"
	if err := checkAuditQuery(q); err != nil {
		return nil, newError(op, ErrInvalid, err)
	}
	text, args := auditListQuery(q, s.d)
	return query(ctx, s, op, scanAudit, text, args...)
}

// auditListQuery builds ListAudit's query.
func auditListQuery(q AuditQuery, d dialect) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Text != "" {
		var ors []string
		for _, col := range []string{"actor", "identity_id", "provider", "subject", "pool", "role", "source", "request_id", "reason"} {
			ors = append(ors, d.contains("lower("+col+")", arg(strings.ToLower(q.Text))))
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if q.Kind != "" {
		where = append(where, "kind = "+arg(q.Kind))
	}
	if q.Result != "" {
		where = append(where, "result = "+arg(q.Result))
	}
	if !q.Since.IsZero() {
		where = append(where, "at >= "+arg(toNanos(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "at < "+arg(toNanos(q.Until)))
	}
	if q.Before > 0 {
		where = append(where, "id < "+arg(q.Before))
	}
	limit := q.Limit
	if limit == 0 {
		limit = MaxAuditPage
	}
	query := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	return query + ` ORDER BY id DESC LIMIT ` + arg(limit), args
}

// scanAudit reads a row of auditColumns.
func scanAudit(row *sql.Rows) (AuditEntry, error) {
	var e AuditEntry
	var at int64
	err := row.Scan(&e.ID, &at, &e.Kind, &e.Actor, &e.IdentityID, &e.Provider, &e.Subject, &e.Pool, &e.Role, &e.Source, &e.RequestID, &e.Result, &e.Reason, &e.Version)
	e.Time = fromNanos(at)
	return e, err
}
