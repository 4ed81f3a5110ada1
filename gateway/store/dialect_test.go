package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every schema placeholder is spelled in every dialect.
func TestMigrationsSpelledInEveryDialect(t *testing.T) {
	for name, d := range map[string]dialect{"sqlite": sqliteDialect(), "postgres": postgresDialect()} {
		for i, step := range migrations() {
			if got := d.ddl(step); strings.ContainsAny(got, "{}") {
				t.Errorf("%s migration %d keeps a placeholder:\n%s", name, i+1, got)
			}
		}
	}
}

// withTx runs a transaction again only when the dialect calls the failure
// retryable, and at most txAttempts times.
func TestWithTxRetries(t *testing.T) {
	errRetryable := errors.New("serialization failure")
	d := sqliteDialect()
	d.class = func(err error) errClass {
		if errors.Is(err, errRetryable) {
			return errRetry
		}
		return errOther
	}
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "fedgate.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.d = d

	tests := []struct {
		name      string
		failures  int
		failWith  error
		wantRuns  int
		wantError bool
	}{
		{"succeeds after a retryable failure", 1, errRetryable, 2, false},
		{"gives up after txAttempts", txAttempts, errRetryable, txAttempts, true},
		{"no retry for other errors", 1, errors.New("disk full"), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := 0
			err := s.withTx(context.Background(), func(tx *sql.Tx) error {
				runs++
				if _, err := tx.Exec(`DELETE FROM ephemeral`); err != nil {
					return err
				}
				if runs <= tt.failures {
					return tt.failWith
				}
				return nil
			})
			if runs != tt.wantRuns || (err != nil) != tt.wantError {
				t.Errorf("ran %d times, err %v; want %d runs, error %v", runs, err, tt.wantRuns, tt.wantError)
			}
		})
	}
}
