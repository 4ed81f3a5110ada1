package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	sqliteBusyTimeoutMillis = 5000
	// WAL lets readers run beside the one writer, so reads get a pool of
	// their own; writes go through a single connection and BEGIN IMMEDIATE,
	// so writers in this process queue in database/sql instead of failing
	// with SQLITE_BUSY, and writers in other processes wait on busy_timeout.
	sqliteReaderConns = 4
)

// SQLite is the embedded, single-node Store.
type SQLite struct {
	sqlStore
	dir string // the database's folder, whose file system Ping checks
}

// Ping checks the database answers and its file system can take writes:
// a full or read-only disk makes fedgate not ready.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.sqlStore.Ping(ctx); err != nil {
		return err
	}
	if err := checkDisk(s.dir); err != nil {
		return newError("Ping", nil, err)
	}
	return nil
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating with mode 0600 if needed) the database at path
// and brings its schema up to date. now is the store's clock.
func OpenSQLite(ctx context.Context, path string, now func() time.Time) (*SQLite, error) {
	const op = "OpenSQLite"
	if path == "" || now == nil {
		return nil, newError(op, ErrInvalid, errors.New("path and clock are required"))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, newError(op, ErrInvalid, err)
	}
	// SQLite would create the file 0644; create it first so it never exists
	// readable by others. The -wal and -shm files inherit this mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, newError(op, nil, err)
	}
	if err := f.Close(); err != nil {
		return nil, newError(op, nil, err)
	}

	writer, err := openPool(ctx, sqliteDSN(abs, true), 1)
	if err != nil {
		return nil, newError(op, nil, err)
	}
	d := sqliteDialect()
	if err := migrate(ctx, writer, d, toNanos(now())); err != nil {
		_ = writer.Close()
		return nil, newError(op, nil, err)
	}
	reader, err := openPool(ctx, sqliteDSN(abs, false), sqliteReaderConns)
	if err != nil {
		_ = writer.Close()
		return nil, newError(op, nil, err)
	}
	return &SQLite{sqlStore: sqlStore{d: d, writer: writer, reader: reader, now: now}, dir: filepath.Dir(abs)}, nil
}

// sqliteDSN builds a file: URI (so no path character is mistaken for DSN
// syntax) with the connection settings every connection must carry.
func sqliteDSN(absPath string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeoutMillis))
	q.Add("_pragma", "foreign_keys(1)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)") // durable enough in WAL mode, much faster
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "1")
	}
	u := url.URL{Scheme: "file", Path: absPath, RawQuery: q.Encode()}
	return u.String()
}

func openPool(ctx context.Context, dsn string, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// sqliteDialect: writes are exclusive already (one writer connection,
// BEGIN IMMEDIATE across processes), so it needs no lock; SQLite retries a
// busy database itself for busy_timeout, so no error is worth a retry.
func sqliteDialect() dialect {
	return dialect{
		name:         "sqlite",
		integer:      "INTEGER", // INTEGER PRIMARY KEY makes the column the rowid
		blob:         "BLOB",
		serialKey:    "INTEGER PRIMARY KEY AUTOINCREMENT", // as the first audit_log was made; a later step rebuilds it on the plain rowid
		containsFunc: "instr",
		greatestFunc: "max",
		class:        sqliteClass,
	}
}

func sqliteClass(err error) errClass {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return errOther
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return errUnique
	}
	return errOther
}
