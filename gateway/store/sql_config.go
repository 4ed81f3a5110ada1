package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
)

const configColumns = `version, doc, hash, author, source, comment, created_at`

// LatestConfig implements ConfigStore.
func (s *sqlStore) LatestConfig(ctx context.Context) (*ConfigVersion, error) {
	v, err := scanConfigVersion(s.reader.QueryRowContext(ctx, `SELECT `+configColumns+`
		FROM config_versions ORDER BY version DESC LIMIT 1`))
	if err != nil {
		return nil, s.classify("LatestConfig", err)
	}
	return v, nil
}

// GetConfig implements ConfigHistoryStore.
func (s *sqlStore) GetConfig(ctx context.Context, version int64) (*ConfigVersion, error) {
	v, err := scanConfigVersion(s.reader.QueryRowContext(ctx, `SELECT `+configColumns+`
		FROM config_versions WHERE version = $1`, version))
	if err != nil {
		return nil, s.classify("GetConfig", err)
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
func (s *sqlStore) ListConfigs(ctx context.Context, before int64, limit int) ([]ConfigVersion, error) {
	const op = "ListConfigs"
	if limit <= 0 || limit > MaxAuditPage || before < 0 {
		return nil, newError(op, ErrInvalid, fmt.Errorf("limit %d, before %d", limit, before))
	}
	if before == 0 {
		before = 1<<63 - 1
	}
	return query(ctx, s, op, scanConfigSummary, `SELECT version, hash, author, source, comment, created_at
		FROM config_versions WHERE version < $1 ORDER BY version DESC LIMIT $2`, before, limit)
}

// scanConfigSummary reads a version without its document.
func scanConfigSummary(row *sql.Rows) (ConfigVersion, error) {
	var v ConfigVersion
	var createdAt int64
	err := row.Scan(&v.Version, &v.Hash, &v.Author, &v.Source, &v.Comment, &createdAt)
	v.CreatedAt = fromNanos(createdAt)
	return v, err
}

// PutConfig implements ConfigStore.
func (s *sqlStore) PutConfig(ctx context.Context, v ConfigVersion, ifLatest int64) (int64, error) {
	return s.putConfig(ctx, "PutConfig", v, ifLatest, nil)
}

// PutConfigWithAudit implements ConfigHistoryStore: the version check, the
// version and its audit entry share one transaction.
func (s *sqlStore) PutConfigWithAudit(ctx context.Context, v ConfigVersion, ifLatest int64, e AuditEntry) (int64, error) {
	const op = "PutConfigWithAudit"
	if err := checkAuditEntry(e); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	return s.putConfig(ctx, op, v, ifLatest, &e)
}

// putConfig serialises configuration writers (the dialect's lock, or the
// exclusive write transaction itself), so the "latest is still ifLatest"
// check and the insert cannot interleave with another writer's. Were they
// to race anyway, the insert's unique violation is ErrConflict too.
func (s *sqlStore) putConfig(ctx context.Context, op string, v ConfigVersion, ifLatest int64, e *AuditEntry) (int64, error) {
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
		if err := s.d.lockTx(ctx, tx, lockConfig); err != nil {
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO config_versions (`+configColumns+`)
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
		_, err := s.insertAudit(ctx, tx, s.stampAudit(entry))
		return err
	})
	if err != nil {
		return 0, s.classify(op, err)
	}
	return version, nil
}
