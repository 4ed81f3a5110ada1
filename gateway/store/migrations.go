package store

import (
	"context"
	"database/sql"
	"fmt"
)

// sqliteMigrations is the schema history, one statement per version
// (version = index + 1). Append only: never edit or reorder a released entry.
func sqliteMigrations() []string {
	return []string{
		`CREATE TABLE identities (
			id           TEXT PRIMARY KEY,
			pool_id      TEXT NOT NULL,
			provider     TEXT NOT NULL,
			subject      TEXT NOT NULL,
			created_at   INTEGER NOT NULL,
			last_seen_at INTEGER NOT NULL,
			UNIQUE (pool_id, provider, subject)
		)`,
		`CREATE TABLE config_versions (
			version    INTEGER PRIMARY KEY,
			doc        BLOB NOT NULL,
			hash       TEXT NOT NULL,
			author     TEXT NOT NULL,
			source     TEXT NOT NULL,
			comment    TEXT NOT NULL,
			created_at INTEGER NOT NULL
		)`,
		`CREATE TABLE ephemeral (
			key_hash   TEXT PRIMARY KEY,
			kind       TEXT NOT NULL,
			data       BLOB NOT NULL,
			expires_at INTEGER NOT NULL
		)`,
		`CREATE INDEX ephemeral_expires_at ON ephemeral (expires_at)`,
		`CREATE TABLE signing_keys (
			id         TEXT PRIMARY KEY,
			algorithm  TEXT NOT NULL,
			sealed     BLOB NOT NULL,
			created_at INTEGER NOT NULL,
			retired_at INTEGER
		)`,
		// admin (issue 6): the audit log.
		`CREATE TABLE audit_log (
			id          INTEGER PRIMARY KEY AUTOINCREMENT,
			at          INTEGER NOT NULL,
			kind        TEXT NOT NULL,
			actor       TEXT NOT NULL,
			identity_id TEXT NOT NULL,
			provider    TEXT NOT NULL,
			subject     TEXT NOT NULL,
			pool        TEXT NOT NULL,
			role        TEXT NOT NULL,
			source      TEXT NOT NULL,
			request_id  TEXT NOT NULL,
			result      TEXT NOT NULL,
			reason      TEXT NOT NULL,
			version     INTEGER NOT NULL
		)`,
		`CREATE INDEX audit_log_at ON audit_log (at)`,
		// cli (issue 5): sessions of `fedgate login`.
		`CREATE TABLE cli_sessions (
			id           TEXT PRIMARY KEY,
			token_hash   TEXT NOT NULL UNIQUE,
			provider     TEXT NOT NULL,
			subject      TEXT NOT NULL,
			pool_id      TEXT NOT NULL,
			method       TEXT NOT NULL,
			client       TEXT NOT NULL,
			sealed       BLOB NOT NULL,
			created_at   INTEGER NOT NULL,
			expires_at   INTEGER NOT NULL,
			last_used_at INTEGER NOT NULL
		)`,
		`CREATE INDEX cli_sessions_owner ON cli_sessions (provider, subject, expires_at)`,
		// saml (issue 3): the SAML broker's signing keys, a ring apart from the issuer's.
		`CREATE TABLE saml_signing_keys (
			id         TEXT PRIMARY KEY,
			algorithm  TEXT NOT NULL,
			sealed     BLOB NOT NULL,
			created_at INTEGER NOT NULL,
			retired_at INTEGER
		)`,
	}
}

// migrate applies the pending migrations in one transaction, recording each
// in schema_migrations. Run on every open: with nothing pending it only reads.
// A database migrated by a newer binary is refused rather than misread.
func migrate(ctx context.Context, db *sql.DB, steps []string, nowNanos int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit

	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return err
	}
	var current int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	if current > int64(len(steps)) {
		return fmt.Errorf("database schema is version %d, newer than this binary's %d", current, len(steps))
	}
	for i := current; i < int64(len(steps)); i++ {
		version := i + 1
		if _, err := tx.ExecContext(ctx, steps[i]); err != nil {
			return fmt.Errorf("migration %d: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, nowNanos); err != nil {
			return fmt.Errorf("record migration %d: %w", version, err)
		}
	}
	return tx.Commit()
}
