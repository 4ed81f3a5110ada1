package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL is the Store for several gateway replicas sharing one database.
// It keeps the SQLite backend's schema and semantics: times as Unix
// nanoseconds, ephemeral keys as EphemeralKeyHash, one-winner takes.
//
// The tables live in the connection's search_path (the DSN's
// search_path=..., or the role's default), so several deployments can share
// one database in schemas of their own. Migrations run on every open,
// serialised across replicas by a transaction-scoped advisory lock.
type PostgreSQL struct {
	db        *sql.DB
	now       func() time.Time
	closeOnce sync.Once
	closeErr  error
}

var _ Store = (*PostgreSQL)(nil)

const (
	postgresMaxConns        = 16
	postgresConnMaxLifetime = 30 * time.Minute
	postgresConnMaxIdleTime = 5 * time.Minute
)

// ParsePostgresDSN checks a connection string (a postgres:// URL or
// key=value pairs) the way OpenPostgres will read it. The error never
// repeats the string, which may hold a password.
func ParsePostgresDSN(dsn string) error {
	if strings.TrimSpace(dsn) == "" {
		return errors.New("empty connection string")
	}
	_, err := pgx.ParseConfig(dsn)
	return redactDSNError(err)
}

// redactDSNError keeps the reason of a parse error and drops the echoed
// connection string (pgx masks passwords, but not in every malformed form).
func redactDSNError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		msg = msg[i+3:]
	} else if strings.HasPrefix(msg, "cannot parse") {
		msg = "cannot parse"
	}
	return errors.New("invalid connection string: " + msg)
}

// OpenPostgres connects to dsn, brings the schema up to date and returns the
// store. now is the store's clock.
func OpenPostgres(ctx context.Context, dsn string, now func() time.Time) (*PostgreSQL, error) {
	const op = "OpenPostgres"
	if strings.TrimSpace(dsn) == "" || now == nil {
		return nil, newError(op, ErrInvalid, errors.New("connection string and clock are required"))
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, newError(op, ErrInvalid, redactDSNError(err))
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(postgresMaxConns)
	db.SetMaxIdleConns(postgresMaxConns)
	db.SetConnMaxLifetime(postgresConnMaxLifetime)
	db.SetConnMaxIdleTime(postgresConnMaxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, newError(op, nil, err)
	}
	if err := migratePostgres(ctx, db, postgresMigrations(), toNanos(now())); err != nil {
		_ = db.Close()
		return nil, newError(op, nil, err)
	}
	return &PostgreSQL{db: db, now: now}, nil
}

// Ping checks the database answers.
func (s *PostgreSQL) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return newError("Ping", nil, err)
	}
	return nil
}

// Close closes the pool; calling it again returns the first result.
func (s *PostgreSQL) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// withTx runs fn in one READ COMMITTED transaction.
func (s *PostgreSQL) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Advisory lock names. Each is hashed together with the current schema, so
// deployments in different schemas of one database do not wait on each
// other.
const (
	pgLockMigrate = "fedgate:migrate"
	pgLockConfig  = "fedgate:config"
)

// lockXact takes a transaction-scoped advisory lock, released at commit or
// rollback.
func lockXact(ctx context.Context, tx *sql.Tx, name string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1 || ':' || COALESCE(current_schema(), '')))`, name)
	return err
}

// classifyPG turns a driver error into a store Error with the right sentinel.
func classifyPG(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return newError(op, ErrNotFound, nil)
	case errors.As(err, &pe) && pe.Code == "23505": // unique_violation
		return newError(op, ErrConflict, err)
	}
	return newError(op, nil, err)
}

// postgresMigrations is sqliteMigrations in PostgreSQL's dialect: the same
// versions, in the same order, so a schema version means the same tables
// on both backends. Append only.
func postgresMigrations() []string {
	return []string{
		`CREATE TABLE identities (
			id           TEXT PRIMARY KEY,
			pool_id      TEXT NOT NULL,
			provider     TEXT NOT NULL,
			subject      TEXT NOT NULL,
			created_at   BIGINT NOT NULL,
			last_seen_at BIGINT NOT NULL,
			UNIQUE (pool_id, provider, subject)
		)`,
		`CREATE TABLE config_versions (
			version    BIGINT PRIMARY KEY,
			doc        BYTEA NOT NULL,
			hash       TEXT NOT NULL,
			author     TEXT NOT NULL,
			source     TEXT NOT NULL,
			comment    TEXT NOT NULL,
			created_at BIGINT NOT NULL
		)`,
		`CREATE TABLE ephemeral (
			key_hash   TEXT PRIMARY KEY,
			kind       TEXT NOT NULL,
			data       BYTEA NOT NULL,
			expires_at BIGINT NOT NULL
		)`,
		`CREATE INDEX ephemeral_expires_at ON ephemeral (expires_at)`,
		`CREATE TABLE signing_keys (
			id         TEXT PRIMARY KEY,
			algorithm  TEXT NOT NULL,
			sealed     BYTEA NOT NULL,
			created_at BIGINT NOT NULL,
			retired_at BIGINT
		)`,
		// admin (issue 6): the audit log.
		`CREATE TABLE audit_log (
			id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			at          BIGINT NOT NULL,
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
			version     BIGINT NOT NULL
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
			sealed       BYTEA NOT NULL,
			created_at   BIGINT NOT NULL,
			expires_at   BIGINT NOT NULL,
			last_used_at BIGINT NOT NULL
		)`,
		`CREATE INDEX cli_sessions_owner ON cli_sessions (provider, subject, expires_at)`,
		// saml (issue 3): the SAML broker's signing keys, a ring apart from the issuer's.
		`CREATE TABLE saml_signing_keys (
			id         TEXT PRIMARY KEY,
			algorithm  TEXT NOT NULL,
			sealed     BYTEA NOT NULL,
			created_at BIGINT NOT NULL,
			retired_at BIGINT
		)`,
	}
}

// migratePostgres applies the pending migrations in one transaction. The
// advisory lock comes first, so replicas starting at once queue here: the
// first migrates, the others then find nothing pending. DDL is
// transactional in PostgreSQL, so a failed step leaves no half schema.
func migratePostgres(ctx context.Context, db *sql.DB, steps []string, nowNanos int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit

	if err := lockXact(ctx, tx, pgLockMigrate); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		applied_at BIGINT NOT NULL
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, nowNanos); err != nil {
			return fmt.Errorf("record migration %d: %w", version, err)
		}
	}
	return tx.Commit()
}
