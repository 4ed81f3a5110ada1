package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
)

const auditColumns = `id, at, kind, actor, identity_id, provider, subject, pool, role, source, request_id, result, reason, version`

// AppendAudit implements AuditStore.
func (s *SQLite) AppendAudit(ctx context.Context, e AuditEntry) (int64, error) {
	const op = "AppendAudit"
	if err := checkAuditEntry(e); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.insertAudit(ctx, tx, e)
		return err
	})
	if err != nil {
		return 0, classify(op, err)
	}
	return id, nil
}

func (s *SQLite) insertAudit(ctx context.Context, tx *sql.Tx, e AuditEntry) (int64, error) {
	e = clipAudit(e)
	at := s.now()
	if !e.Time.IsZero() {
		at = e.Time
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, kind, actor, identity_id, provider, subject, pool, role, source, request_id, result, reason, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		toNanos(at), e.Kind, e.Actor, e.IdentityID, e.Provider, e.Subject, e.Pool, e.Role, e.Source, e.RequestID, e.Result, e.Reason, e.Version)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// ListAudit implements AuditStore.
func (s *SQLite) ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	const op = "ListAudit"
	if err := checkAuditQuery(q); err != nil {
		return nil, newError(op, ErrInvalid, err)
	}
	var where []string
	var args []any
	if q.Text != "" {
		// instr on lower() is a plain substring test: no LIKE wildcards to escape.
		var ors []string
		for _, col := range []string{"actor", "identity_id", "provider", "subject", "pool", "role", "source", "request_id", "reason"} {
			ors = append(ors, "instr(lower("+col+"), ?) > 0")
			args = append(args, strings.ToLower(q.Text))
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if q.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, q.Kind)
	}
	if q.Result != "" {
		where, args = append(where, "result = ?"), append(args, q.Result)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, toNanos(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, toNanos(q.Until))
	}
	if q.Before > 0 {
		where, args = append(where, "id < ?"), append(args, q.Before)
	}
	limit := q.Limit
	if limit == 0 {
		limit = MaxAuditPage
	}
	query := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, classify(op, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.Actor, &e.IdentityID, &e.Provider, &e.Subject, &e.Pool, &e.Role, &e.Source, &e.RequestID, &e.Result, &e.Reason, &e.Version); err != nil {
			return nil, classify(op, err)
		}
		e.Time = fromNanos(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(op, err)
	}
	return out, nil
}

// GetConfig implements ConfigHistoryStore.
func (s *SQLite) GetConfig(ctx context.Context, version int64) (*ConfigVersion, error) {
	var v ConfigVersion
	var createdAt int64
	err := s.reader.QueryRowContext(ctx, `SELECT version, doc, hash, author, source, comment, created_at
		FROM config_versions WHERE version = ?`, version).
		Scan(&v.Version, &v.Doc, &v.Hash, &v.Author, &v.Source, &v.Comment, &createdAt)
	if err != nil {
		return nil, classify("GetConfig", err)
	}
	v.CreatedAt = fromNanos(createdAt)
	return &v, nil
}

// ListConfigs implements ConfigHistoryStore.
func (s *SQLite) ListConfigs(ctx context.Context, before int64, limit int) ([]ConfigVersion, error) {
	const op = "ListConfigs"
	if limit <= 0 || limit > MaxAuditPage || before < 0 {
		return nil, newError(op, ErrInvalid, fmt.Errorf("limit %d, before %d", limit, before))
	}
	if before == 0 {
		before = 1<<63 - 1
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT version, hash, author, source, comment, created_at
		FROM config_versions WHERE version < ? ORDER BY version DESC LIMIT ?`, before, limit)
	if err != nil {
		return nil, classify(op, err)
	}
	defer rows.Close()
	var out []ConfigVersion
	for rows.Next() {
		var v ConfigVersion
		var createdAt int64
		if err := rows.Scan(&v.Version, &v.Hash, &v.Author, &v.Source, &v.Comment, &createdAt); err != nil {
			return nil, classify(op, err)
		}
		v.CreatedAt = fromNanos(createdAt)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(op, err)
	}
	return out, nil
}

// PutConfigWithAudit implements ConfigHistoryStore: the version check, the
// version and its audit entry share one IMMEDIATE transaction.
func (s *SQLite) PutConfigWithAudit(ctx context.Context, v ConfigVersion, ifLatest int64, e AuditEntry) (int64, error) {
	const op = "PutConfigWithAudit"
	if err := checkConfig(v, ifLatest); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	if err := checkAuditEntry(e); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	if v.Hash == "" {
		sum := sha256.Sum256(v.Doc)
		v.Hash = hex.EncodeToString(sum[:])
	}
	createdAt := s.now()
	var version int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var latest int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM config_versions`).Scan(&latest); err != nil {
			return err
		}
		if latest != ifLatest {
			return newError(op, ErrConflict, fmt.Errorf("latest version is %d, caller expected %d", latest, ifLatest))
		}
		version = latest + 1
		if _, err := tx.ExecContext(ctx, `INSERT INTO config_versions (version, doc, hash, author, source, comment, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			version, v.Doc, v.Hash, v.Author, v.Source, v.Comment, toNanos(createdAt)); err != nil {
			return err
		}
		e.Version = version
		if e.Time.IsZero() {
			e.Time = createdAt
		}
		_, err := s.insertAudit(ctx, tx, e)
		return err
	})
	if err != nil {
		return 0, classify(op, err)
	}
	return version, nil
}
