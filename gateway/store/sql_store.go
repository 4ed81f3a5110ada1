package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"
)

// sqlStore implements Store over database/sql once for every SQL backend.
// SQLite and PostgreSQL embed it with their dialect and connection pools.
type sqlStore struct {
	d      dialect
	writer *sql.DB // writes and write transactions
	reader *sql.DB // plain reads; the writer itself where a backend has one pool
	now    func() time.Time
	audit  auditBatcher

	closeOnce sync.Once
	closeErr  error
}

// Ping checks every pool can reach the database.
func (s *sqlStore) Ping(ctx context.Context) error {
	for _, db := range s.pools() {
		if err := db.PingContext(ctx); err != nil {
			return s.classify("Ping", err)
		}
	}
	return nil
}

// Close closes the pools; calling it again returns the first result.
func (s *sqlStore) Close() error {
	s.closeOnce.Do(func() {
		s.stopAuditWriter()
		var errs []error
		for _, db := range s.pools() {
			errs = append(errs, db.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

func (s *sqlStore) pools() []*sql.DB {
	if s.reader == s.writer {
		return []*sql.DB{s.writer}
	}
	return []*sql.DB{s.reader, s.writer}
}

// txAttempts bounds how often withTx runs a transaction the database
// aborted to keep transactions consistent (errRetry).
const txAttempts = 3

// withTx runs fn in one write transaction, with the isolation the writer
// pool opens it with (SQLite: BEGIN IMMEDIATE; PostgreSQL: READ COMMITTED).
// fn may run again after an errRetry, so it must start from scratch.
func (s *sqlStore) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil || attempt == txAttempts || ctx.Err() != nil || s.d.class(err) != errRetry {
			return err
		}
	}
}

func (s *sqlStore) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// classify turns a driver error into a store Error with the right sentinel;
// a store Error passes as it is.
func (s *sqlStore) classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return newError(op, ErrNotFound, nil)
	case s.d.class(err) == errUnique:
		return newError(op, ErrConflict, err)
	case s.d.class(err) == errUnavailable:
		return newError(op, ErrUnavailable, err)
	}
	return newError(op, nil, err)
}

// exec runs a write on the writer pool and says how many rows it changed.
func (s *sqlStore) exec(ctx context.Context, op, q string, args ...any) (int64, error) {
	res, err := s.writer.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, s.classify(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.classify(op, err)
	}
	return n, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// query runs a read on the reader pool and scans every row. scan takes
// *sql.Rows, not a scanner: Scan's arguments then stay on the stack.
func query[T any](ctx context.Context, s *sqlStore, op string, scan func(*sql.Rows) (T, error), q string, args ...any) ([]T, error) {
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.classify(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, s.classify(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.classify(op, err)
	}
	return out, nil
}
