package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
)

// LatestConfig implements ConfigStore.
func (s *PostgreSQL) LatestConfig(ctx context.Context) (*ConfigVersion, error) {
	v, err := scanConfigVersion(s.db.QueryRowContext(ctx, `SELECT version, doc, hash, author, source, comment, created_at
		FROM config_versions ORDER BY version DESC LIMIT 1`))
	if err != nil {
		return nil, classifyPG("LatestConfig", err)
	}
	return v, nil
}

// GetConfig implements ConfigHistoryStore.
func (s *PostgreSQL) GetConfig(ctx context.Context, version int64) (*ConfigVersion, error) {
	v, err := scanConfigVersion(s.db.QueryRowContext(ctx, `SELECT version, doc, hash, author, source, comment, created_at
		FROM config_versions WHERE version = $1`, version))
	if err != nil {
		return nil, classifyPG("GetConfig", err)
	}
	return v, nil
}

func scanConfigVersion(row *sql.Row) (*ConfigVersion, error) {
	var v ConfigVersion
	var createdAt int64
	if err := row.Scan(&v.Version, &v.Doc, &v.Hash, &v.Author, &v.Source, &v.Comment, &createdAt); err != nil {
		return nil, err
	}
	v.CreatedAt = fromNanos(createdAt)
	return &v, nil
}

// ListConfigs implements ConfigHistoryStore.
func (s *PostgreSQL) ListConfigs(ctx context.Context, before int64, limit int) ([]ConfigVersion, error) {
	const op = "ListConfigs"
	if limit <= 0 || limit > MaxAuditPage || before < 0 {
		return nil, newError(op, ErrInvalid, fmt.Errorf("limit %d, before %d", limit, before))
	}
	if before == 0 {
		before = 1<<63 - 1
	}
	rows, err := s.db.QueryContext(ctx, configListQuery(postgresSQL{}), before, limit)
	if err != nil {
		return nil, classifyPG(op, err)
	}
	out, err := scanConfigVersions(rows)
	if err != nil {
		return nil, classifyPG(op, err)
	}
	return out, nil
}

// PutConfig implements ConfigStore.
func (s *PostgreSQL) PutConfig(ctx context.Context, v ConfigVersion, ifLatest int64) (int64, error) {
	return s.putConfig(ctx, "PutConfig", v, ifLatest, nil)
}

// PutConfigWithAudit implements ConfigHistoryStore: the version check, the
// version and its audit entry share one transaction.
func (s *PostgreSQL) PutConfigWithAudit(ctx context.Context, v ConfigVersion, ifLatest int64, e AuditEntry) (int64, error) {
	const op = "PutConfigWithAudit"
	if err := checkAuditEntry(e); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	return s.putConfig(ctx, op, v, ifLatest, &e)
}

// putConfig serialises configuration writers on an advisory lock, so the
// "latest is still ifLatest" check and the insert cannot interleave with
// another replica's (a race would otherwise surface as a unique violation,
// which classifyPG also maps to ErrConflict).
func (s *PostgreSQL) putConfig(ctx context.Context, op string, v ConfigVersion, ifLatest int64, e *AuditEntry) (int64, error) {
	if err := checkConfig(v, ifLatest); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	if v.Hash == "" {
		sum := sha256.Sum256(v.Doc)
		v.Hash = hex.EncodeToString(sum[:])
	}
	createdAt := s.now()
	var version int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := lockXact(ctx, tx, pgLockConfig); err != nil {
			return err
		}
		var latest int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM config_versions`).Scan(&latest); err != nil {
			return err
		}
		if latest != ifLatest {
			return newError(op, ErrConflict, fmt.Errorf("latest version is %d, caller expected %d", latest, ifLatest))
		}
		version = latest + 1
		if _, err := tx.ExecContext(ctx, `INSERT INTO config_versions (version, doc, hash, author, source, comment, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			version, v.Doc, v.Hash, v.Author, v.Source, v.Comment, toNanos(createdAt)); err != nil {
			return err
		}
		if e == nil {
			return nil
		}
		entry := *e
		entry.Version = version
		if entry.Time.IsZero() {
			entry.Time = createdAt
		}
		_, err := s.insertAudit(ctx, tx, entry)
		return err
	})
	if err != nil {
		return 0, classifyPG(op, err)
	}
	return version, nil
}

// AppendAudit implements AuditStore.
func (s *PostgreSQL) AppendAudit(ctx context.Context, e AuditEntry) (int64, error) {
	const op = "AppendAudit"
	if err := checkAuditEntry(e); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	id, err := s.insertAudit(ctx, s.db, e)
	if err != nil {
		return 0, classifyPG(op, err)
	}
	return id, nil
}

type pgQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *PostgreSQL) insertAudit(ctx context.Context, q pgQuerier, e AuditEntry) (int64, error) {
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
func (s *PostgreSQL) ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	const op = "ListAudit"
	if err := checkAuditQuery(q); err != nil {
		return nil, newError(op, ErrInvalid, err)
	}
	query, args := auditListQuery(q, postgresSQL{})
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, classifyPG(op, err)
	}
	out, err := scanAudit(rows)
	if err != nil {
		return nil, classifyPG(op, err)
	}
	return out, nil
}
