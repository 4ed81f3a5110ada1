package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
)

// LatestConfig implements ConfigStore.
func (s *SQLite) LatestConfig(ctx context.Context) (*ConfigVersion, error) {
	var v ConfigVersion
	var createdAt int64
	err := s.reader.QueryRowContext(ctx, `SELECT version, doc, hash, author, source, comment, created_at
		FROM config_versions ORDER BY version DESC LIMIT 1`).
		Scan(&v.Version, &v.Doc, &v.Hash, &v.Author, &v.Source, &v.Comment, &createdAt)
	if err != nil {
		return nil, classify("LatestConfig", err)
	}
	v.CreatedAt = fromNanos(createdAt)
	return &v, nil
}

// PutConfig implements ConfigStore. The check and the insert share one
// IMMEDIATE transaction, so no other writer can slip in between; the audit
// record will join this same transaction.
func (s *SQLite) PutConfig(ctx context.Context, v ConfigVersion, ifLatest int64) (int64, error) {
	const op = "PutConfig"
	if err := checkConfig(v, ifLatest); err != nil {
		return 0, newError(op, ErrInvalid, err)
	}
	if v.Hash == "" {
		sum := sha256.Sum256(v.Doc)
		v.Hash = hex.EncodeToString(sum[:])
	}
	createdAt := toNanos(s.now())
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
		_, err := tx.ExecContext(ctx, `INSERT INTO config_versions (version, doc, hash, author, source, comment, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			version, v.Doc, v.Hash, v.Author, v.Source, v.Comment, createdAt)
		return err
	})
	if err != nil {
		return 0, classify(op, err)
	}
	return version, nil
}
