package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
)

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
	query, args := auditListQuery(q, sqliteSQL{})
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, classify(op, err)
	}
	out, err := scanAudit(rows)
	if err != nil {
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
	rows, err := s.reader.QueryContext(ctx, configListQuery(sqliteSQL{}), before, limit)
	if err != nil {
		return nil, classify(op, err)
	}
	out, err := scanConfigVersions(rows)
	if err != nil {
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
