package store

import (
	"context"
	"database/sql"
	"strings"
)

// dialect is what differs between the SQL backends. Everything else (the
// queries, the transactions, the row scans) is written once, in sql_*.go.
//
// Query text uses $n placeholders on every backend: it is PostgreSQL's own
// syntax, and SQLite binds $NNN to the NNNth argument, so no query is
// rewritten per call. Upserts (INSERT ... ON CONFLICT ... DO UPDATE/NOTHING)
// and RETURNING are spelled the same on both.
type dialect struct {
	name string // "sqlite" or "postgres"
	// DDL type names: a 64-bit integer, a byte string, and an auto-assigned
	// 64-bit primary key.
	integer, blob, serialKey string
	// containsFunc(haystack, needle) is a position, > 0 when found: a plain
	// substring test, free of LIKE's wildcards.
	containsFunc string
	// greatestFunc(a, b) is the larger of two values.
	greatestFunc string
	// lock serialises one kind of writer (lockMigrate, lockConfig) inside
	// tx, across processes and replicas, until tx ends. Nil where every
	// write transaction already excludes the others (SQLite's BEGIN
	// IMMEDIATE).
	lock func(ctx context.Context, tx *sql.Tx, name string) error
	// class sorts a driver error.
	class func(err error) errClass
}

// Names of the writers a dialect's lock serialises.
const (
	lockMigrate = "fedgate:migrate"
	lockConfig  = "fedgate:config"
)

// errClass is what a store does with a driver error.
type errClass int

const (
	errOther       errClass = iota
	errUnique               // a unique or primary key violation: ErrConflict
	errRetry                // the database aborted the transaction to keep it consistent: run it again
	errUnavailable          // the connection, not the statement, failed: ErrUnavailable
)

func (d dialect) contains(col, arg string) string {
	return d.containsFunc + "(" + col + ", " + arg + ") > 0"
}

func (d dialect) greatest(a, b string) string {
	return d.greatestFunc + "(" + a + ", " + b + ")"
}

// ddl spells a schema statement written with {int}, {blob} and {serial_key}
// in the dialect's type names.
func (d dialect) ddl(stmt string) string {
	return strings.NewReplacer("{int}", d.integer, "{blob}", d.blob, "{serial_key}", d.serialKey).Replace(stmt)
}

// lockTx takes the dialect's lock, if it needs one.
func (d dialect) lockTx(ctx context.Context, tx *sql.Tx, name string) error {
	if d.lock == nil {
		return nil
	}
	return d.lock(ctx, tx, name)
}
