package store

// Queries and row scans the SQL backends share; a sqlDialect carries what
// differs between them.

import (
	"database/sql"
	"strconv"
	"strings"
)

const auditColumns = `id, at, kind, actor, identity_id, provider, subject, pool, role, source, request_id, result, reason, version`

// sqlDialect is what differs between the SQL backends in a query.
type sqlDialect interface {
	placeholder(n int) string           // the nth argument: "?" or "$n"
	contains(column, arg string) string // substring test without LIKE's wildcards
}

// sqliteSQL: instr is a plain substring test.
type sqliteSQL struct{}

func (sqliteSQL) placeholder(int) string { return "?" }
func (sqliteSQL) contains(col, arg string) string {
	return "instr(" + col + ", " + arg + ") > 0"
}

// postgresSQL: strpos is a plain substring test.
type postgresSQL struct{}

func (postgresSQL) placeholder(n int) string { return "$" + strconv.Itoa(n) }
func (postgresSQL) contains(col, arg string) string {
	return "strpos(" + col + ", " + arg + ") > 0"
}

// auditListQuery builds ListAudit's query for a dialect.
func auditListQuery(q AuditQuery, d sqlDialect) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return d.placeholder(len(args))
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

// scanAudit reads rows of auditColumns.
func scanAudit(rows *sql.Rows) ([]AuditEntry, error) {
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.Actor, &e.IdentityID, &e.Provider, &e.Subject, &e.Pool, &e.Role, &e.Source, &e.RequestID, &e.Result, &e.Reason, &e.Version); err != nil {
			return nil, err
		}
		e.Time = fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// configListQuery pages config_versions newest first: versions below the
// first argument, at most the second.
func configListQuery(d sqlDialect) string {
	return `SELECT version, hash, author, source, comment, created_at FROM config_versions
		WHERE version < ` + d.placeholder(1) + ` ORDER BY version DESC LIMIT ` + d.placeholder(2)
}

// scanConfigVersions reads rows of configListQuery (no documents).
func scanConfigVersions(rows *sql.Rows) ([]ConfigVersion, error) {
	defer rows.Close()
	var out []ConfigVersion
	for rows.Next() {
		var v ConfigVersion
		var createdAt int64
		if err := rows.Scan(&v.Version, &v.Hash, &v.Author, &v.Source, &v.Comment, &createdAt); err != nil {
			return nil, err
		}
		v.CreatedAt = fromNanos(createdAt)
		out = append(out, v)
	}
	return out, rows.Err()
}
