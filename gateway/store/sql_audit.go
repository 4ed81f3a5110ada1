package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

const auditColumns = `id, at, kind, actor, identity_id, provider, subject, pool, role, source, request_id, result, reason, version`

// AppendAudit implements AuditStore.
func (s *sqlStore) AppendAudit(ctx context.Context, e AuditEntry) (int64, error) {
	const op = "AppendAudit"
	if err := checkAuditEntry(e); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	e = s.stampAudit(e)
	id, err := s.appendBatched(ctx, e)
	if err != nil {
		return 0, s.classify(op, err)
	}
	return id, nil
}

// rowQuerier is a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// stampAudit clips e's fields and gives it the store clock's time unless
// it has one: the time of the call, not of the commit.
func (s *sqlStore) stampAudit(e AuditEntry) AuditEntry {
	e = clipAudit(e)
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	return e
}

const insertAuditSQL = `INSERT INTO audit_log (at, kind, actor, identity_id, provider, subject, pool, role, source, request_id, result, reason, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`

// insertAudit inserts an entry stamped by stampAudit.
func (s *sqlStore) insertAudit(ctx context.Context, q rowQuerier, e AuditEntry) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, insertAuditSQL, auditArgs(e)...).Scan(&id)
	return id, err
}

// insertAuditRow is insertAudit through the audit writer's prepared statement.
func (s *sqlStore) insertAuditRow(ctx context.Context, stmt *sql.Stmt, e AuditEntry) (int64, error) {
	var id int64
	err := stmt.QueryRowContext(ctx, auditArgs(e)...).Scan(&id)
	return id, err
}

func auditArgs(e AuditEntry) []any {
	return []any{toNanos(e.Time), e.Kind, e.Actor, e.IdentityID, e.Provider, e.Subject, e.Pool, e.Role, e.Source, e.RequestID, e.Result, e.Reason, e.Version}
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

// PruneAudit implements AuditStore.
func (s *sqlStore) PruneAudit(ctx context.Context, before time.Time, maxRows int64, limit int) (int64, error) {
	const op = "PruneAudit"
	if err := checkAuditPrune(maxRows, limit); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	// Entries with an id at or below capID are past the cap; ids only grow,
	// so the newest maxRows entries all have ids above MAX(id) - maxRows.
	capID := int64(0)
	if maxRows > 0 {
		var newest sql.NullInt64
		if err := s.reader.QueryRowContext(ctx, `SELECT MAX(id) FROM audit_log`).Scan(&newest); err != nil {
			return 0, s.classify(op, err)
		}
		capID = max(newest.Int64-maxRows, 0)
	}
	// Oldest first, by id: one short index walk per call on either backend.
	// The newest entry always stays: SQLite gives a new row the largest id
	// + 1, so ids never repeat while it is there.
	return s.exec(ctx, op, `DELETE FROM audit_log WHERE id IN (
		SELECT id FROM audit_log WHERE (at < $1 OR id <= $2) AND id < (SELECT MAX(id) FROM audit_log) ORDER BY id LIMIT $3)`,
		toNanos(before), capID, limit)
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
