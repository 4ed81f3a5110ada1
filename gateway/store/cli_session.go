package store

import (
	"context"
	"errors"
	"time"
)

// CLISessionStore keeps the sessions `fedgate login` creates: long-lived
// (hours), listable and revocable by the person they belong to. The bearer
// token itself is never stored, only its hash.
type CLISessionStore interface {
	// CreateCLISession stores a new session. A duplicate ID or TokenHash is
	// ErrConflict; a missing field or an expiry not after the store's clock
	// is ErrInvalid. It also drops the owner's expired sessions.
	CreateCLISession(ctx context.Context, s CLISession) error
	// GetCLISession finds the live session with this token hash; an
	// absent, revoked or expired (at now) one is ErrNotFound.
	GetCLISession(ctx context.Context, tokenHash string, now time.Time) (*CLISession, error)
	// ListCLISessions returns the owner's live sessions, newest first.
	ListCLISessions(ctx context.Context, owner CLISessionOwner, now time.Time) ([]CLISession, error)
	// DeleteCLISession revokes one of the owner's sessions; a session that
	// does not exist or belongs to someone else is ErrNotFound.
	DeleteCLISession(ctx context.Context, owner CLISessionOwner, id string) error
	// TouchCLISession records a use of the session (LastUsedAt = at, never
	// moving back); an unknown id is no error.
	TouchCLISession(ctx context.Context, id string, at time.Time) error
}

// CLISessionOwner is the person a CLI session belongs to: a subject at an
// upstream provider.
type CLISessionOwner struct{ Provider, Subject string }

// CLISession is one `fedgate login`.
type CLISession struct {
	ID        string // public id, shown in listings and used to revoke
	TokenHash string // SHA-256 hex of the bearer token
	Owner     CLISessionOwner
	PoolID    string // the pool the person signed in through
	Method    string // "loopback" or "device"
	Client    string // what the CLI said about itself (host name), for listings
	// Sealed holds the verified claims (and an upstream token where the
	// pool's mode needs it), encrypted by the gateway.
	Sealed                           []byte
	CreatedAt, ExpiresAt, LastUsedAt time.Time
}

func checkCLISession(s CLISession) error {
	if s.ID == "" || s.TokenHash == "" || s.Owner.Provider == "" || s.Owner.Subject == "" || s.PoolID == "" || len(s.Sealed) == 0 {
		return errors.New("CLI session needs an id, a token hash, an owner, a pool and sealed claims")
	}
	if s.CreatedAt.IsZero() || !s.ExpiresAt.After(s.CreatedAt) {
		return errors.New("CLI session needs a creation time before its expiry")
	}
	return checkText(s.ID, s.TokenHash, s.Owner.Provider, s.Owner.Subject, s.PoolID, s.Method, s.Client)
}
