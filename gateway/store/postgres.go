package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL is the Store for several gateway replicas sharing one database.
// It runs the same SQL as SQLite (sqlStore), so it keeps the same schema and
// semantics: times as Unix nanoseconds, ephemeral keys as EphemeralKeyHash,
// one-winner takes.
//
// The tables live in the connection's search_path (the DSN's
// search_path=..., or the role's default), so several deployments can share
// one database in schemas of their own. Migrations run on every open,
// serialised across replicas by a transaction-scoped advisory lock.
type PostgreSQL struct{ sqlStore }

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
		var kind error
		if connectionLost(err) {
			kind = ErrUnavailable
		}
		return nil, newError(op, kind, err)
	}
	d := postgresDialect()
	if err := migrate(ctx, db, d, toNanos(now())); err != nil {
		_ = db.Close()
		return nil, newError(op, nil, err)
	}
	return &PostgreSQL{sqlStore{d: d, writer: db, reader: db, now: now}}, nil
}

// postgresDialect: replicas share the database, so writers that must not
// interleave take a transaction-scoped advisory lock; transactions run READ
// COMMITTED, and the rare one PostgreSQL aborts anyway (serialization
// failure, deadlock) is run again.
func postgresDialect() dialect {
	return dialect{
		name:         "postgres",
		integer:      "BIGINT",
		blob:         "BYTEA",
		serialKey:    "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
		containsFunc: "strpos",
		greatestFunc: "GREATEST",
		lock:         pgLockXact,
		class:        pgClass,
	}
}

// pgLockXact takes an advisory lock, released at commit or rollback. The
// name is hashed together with the current schema, so deployments in
// different schemas of one database do not wait on each other.
func pgLockXact(ctx context.Context, tx *sql.Tx, name string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1 || ':' || COALESCE(current_schema(), '')))`, name)
	return err
}

func pgClass(err error) errClass {
	if connectionLost(err) {
		return errUnavailable
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return errOther
	}
	switch pe.Code {
	case "23505": // unique_violation
		return errUnique
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return errRetry
	}
	return errOther
}
