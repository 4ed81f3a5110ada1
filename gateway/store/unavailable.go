package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrUnavailable is the kind of a store error whose database could not be
// reached (refused, cut, shut down): no fault of the request, which may
// succeed once the database is back.
var ErrUnavailable = errors.New("the store's database cannot be reached")

// Unavailable reports whether err means the store's database could not be
// reached, so the caller should come back in a moment.
func Unavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// connectionLost reports whether a database/sql or pgx error is the
// connection's rather than the statement's: the server refused or dropped
// it, is shutting down, or did not answer in time. A cancelled request is
// not: its caller went away.
func connectionLost(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case len(pe.Code) == 5 && pe.Code[:2] == "08": // connection_exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
