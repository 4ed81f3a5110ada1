package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestConnectionLost(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{"cut mid-answer", fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"no rows", sql.ErrNoRows, false},
		{"caller gone", context.Canceled, false},
		{"other", errors.New("boom"), false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := connectionLost(tc.err); got != tc.want {
				t.Errorf("connectionLost(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestOpenPostgresNobodyListening: a database that refuses the connection
// is ErrUnavailable, not a fault of the caller's input.
func TestOpenPostgresNobodyListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = OpenPostgres(ctx, "postgres://fedgate@"+addr+"/fedgate?sslmode=disable&connect_timeout=5", time.Now)
	if !Unavailable(err) {
		t.Fatalf("OpenPostgres against a closed port: %v, want ErrUnavailable", err)
	}
	if Unwritable(err) {
		t.Errorf("a refused connection is not a full disk: %v", err)
	}
}
