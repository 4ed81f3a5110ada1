package store

import (
	"errors"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinels of a store that cannot take writes; readiness reports them.
var (
	ErrDiskFull = errors.New("the store's disk is full")
	ErrReadOnly = errors.New("the store's file system is read-only")
)

// Unwritable reports whether err means the store cannot write at all (its
// disk is full or read-only) rather than a fault of this request: the
// caller should come back once an operator has made room.
func Unwritable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			return true
		}
	}
	return errors.Is(err, ErrDiskFull) || errors.Is(err, ErrReadOnly) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EDQUOT)
}
