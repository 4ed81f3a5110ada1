package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations is the schema history, one statement per version (version =
// index + 1), in every dialect: {int}, {blob} and {serial_key} are spelled
// by dialect.ddl, so a schema version means the same tables on every
// backend. Append only: never edit or reorder a released entry.
func migrations() []string {
	return []string{
		`CREATE TABLE identities (
			id           TEXT PRIMARY KEY,
			pool_id      TEXT NOT NULL,
			provider     TEXT NOT NULL,
			subject      TEXT NOT NULL,
			created_at   {int} NOT NULL,
			last_seen_at {int} NOT NULL,
			UNIQUE (pool_id, provider, subject)
		)`,
		`CREATE TABLE config_versions (
			version    {int} PRIMARY KEY,
			doc        {blob} NOT NULL,
			hash       TEXT NOT NULL,
			author     TEXT NOT NULL,
			source     TEXT NOT NULL,
			comment    TEXT NOT NULL,
			created_at {int} NOT NULL
		)`,
		`CREATE TABLE ephemeral (
			key_hash   TEXT PRIMARY KEY,
			kind       TEXT NOT NULL,
			data       {blob} NOT NULL,
			expires_at {int} NOT NULL
		)`,
		`CREATE INDEX ephemeral_expires_at ON ephemeral (expires_at)`,
		`CREATE TABLE signing_keys (
			id         TEXT PRIMARY KEY,
			algorithm  TEXT NOT NULL,
			sealed     {blob} NOT NULL,
			created_at {int} NOT NULL,
			retired_at {int}
		)`,
		// The audit log.
		`CREATE TABLE audit_log (
			id          {serial_key},
			at          {int} NOT NULL,
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
			version     {int} NOT NULL
		)`,
		`CREATE INDEX audit_log_at ON audit_log (at)`,
		// Sessions of `fedgate login`.
		`CREATE TABLE cli_sessions (
			id           TEXT PRIMARY KEY,
			token_hash   TEXT NOT NULL UNIQUE,
			provider     TEXT NOT NULL,
			subject      TEXT NOT NULL,
			pool_id      TEXT NOT NULL,
			method       TEXT NOT NULL,
			client       TEXT NOT NULL,
			sealed       {blob} NOT NULL,
			created_at   {int} NOT NULL,
			expires_at   {int} NOT NULL,
			last_used_at {int} NOT NULL
		)`,
		`CREATE INDEX cli_sessions_owner ON cli_sessions (provider, subject, expires_at)`,
		// The SAML broker's signing keys, a ring apart from the issuer's.
		`CREATE TABLE saml_signing_keys (
			id         TEXT PRIMARY KEY,
			algorithm  TEXT NOT NULL,
			sealed     {blob} NOT NULL,
			created_at {int} NOT NULL,
			retired_at {int}
		)`,
		// Idle guest identities are purged by pool and last use.
		`CREATE INDEX identities_idle ON identities (pool_id, provider, last_seen_at)`,
		// Counters every replica polls; identity_generation moves whenever
		// an identity is deleted or rebound, so caches of identity ids know
		// to drop what they hold.
		`CREATE TABLE store_counters (
			name  TEXT PRIMARY KEY,
			value {int} NOT NULL
		)`,
		`INSERT INTO store_counters (name, value) VALUES ('identity_generation', 0)`,
		// Access keys of backends and scripts signing Cognito API calls.
		`CREATE TABLE access_keys (
			id           TEXT PRIMARY KEY,
			name         TEXT NOT NULL,
			role         TEXT NOT NULL,
			pool_id      TEXT NOT NULL,
			sealed       {blob} NOT NULL,
			disabled     {int} NOT NULL,
			created_by   TEXT NOT NULL,
			created_at   {int} NOT NULL,
			rotated_at   {int} NOT NULL,
			last_used_at {int} NOT NULL
		)`,
		// Logins linked to an identity beyond the one that created it (its
		// row in identities).
		`CREATE TABLE identity_links (
			pool_id     TEXT NOT NULL,
			provider    TEXT NOT NULL,
			subject     TEXT NOT NULL,
			identity_id TEXT NOT NULL,
			linked_at   {int} NOT NULL,
			PRIMARY KEY (pool_id, provider, subject)
		)`,
		`CREATE INDEX identity_links_identity ON identity_links (identity_id)`,
		// SQLite's AUTOINCREMENT writes its counter's page on every audit
		// row: a third of a lone row's commit. The plain rowid key takes the
		// largest id + 1, which grows as long as the newest row stays, and
		// PruneAudit never deletes the newest.
		sqliteOnly + `CREATE TABLE audit_log_rowid (
			id          INTEGER PRIMARY KEY,
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
		);
		INSERT INTO audit_log_rowid SELECT id, at, kind, actor, identity_id, provider, subject, pool, role, source, request_id, result, reason, version FROM audit_log;
		DROP TABLE audit_log;
		ALTER TABLE audit_log_rowid RENAME TO audit_log;
		CREATE INDEX audit_log_at ON audit_log (at)`,
	}
}

// sqliteOnly begins a step only SQLite's schema needs; other dialects
// record its version and change nothing, so versions stay the same
// everywhere. Such a step may hold several statements.
const sqliteOnly = "-- sqlite only\n"

// migrate applies the pending migrations in one transaction, recording each
// in schema_migrations. Run on every open: with nothing pending it only reads.
// The dialect's lock comes first, so processes or replicas opening at once
// queue: the first migrates, the others then find nothing pending. DDL is
// transactional on both backends, so a failed step leaves no half schema.
// A database migrated by a newer binary is refused rather than misread.
func migrate(ctx context.Context, db *sql.DB, d dialect, nowNanos int64) error {
	steps := migrations()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit

	if err := d.lockTx(ctx, tx, lockMigrate); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, d.ddl(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version    {int} PRIMARY KEY,
		applied_at {int} NOT NULL
	)`)); err != nil {
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
		if d.name == "sqlite" || !strings.HasPrefix(steps[i], sqliteOnly) {
			if _, err := tx.ExecContext(ctx, d.ddl(steps[i])); err != nil {
				return fmt.Errorf("migration %d: %w", version, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, nowNanos); err != nil {
			return fmt.Errorf("record migration %d: %w", version, err)
		}
	}
	return tx.Commit()
}
