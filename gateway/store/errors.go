package store

import (
	"errors"
	"strings"
)

// Sentinels callers branch on with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the caller passed something the store refuses to
	// persist (an empty key, an already expired entry...).
	ErrInvalid = errors.New("invalid argument")
)

// Error is every error a store returns. Kind is one of the sentinels (nil for
// a backend failure); Err is the private cause, for logs only: it may carry
// driver detail that must not reach a client.
type Error struct {
	Op   string // the Store method, e.g. "PutConfig"
	Kind error
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("store: ")
	b.WriteString(e.Op)
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(e.Kind.Error())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes both the sentinel and the cause, so errors.Is works for
// ErrConflict as well as for context.Canceled.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Public is a message safe to show a client: the kind, never the cause.
func (e *Error) Public() string {
	if e.Kind != nil {
		return e.Kind.Error()
	}
	return "storage unavailable"
}

func newError(op string, kind, cause error) error {
	return &Error{Op: op, Kind: kind, Err: cause}
}
