package store

import (
	"context"
	"errors"
	"time"
)

// AccessKeyStore keeps the access keys that backends and scripts sign
// Cognito API requests with. The secret is stored sealed by the gateway:
// SigV4 verification needs it back, so it cannot be a hash.
type AccessKeyStore interface {
	// CreateAccessKey stores a new key; a duplicate ID is ErrConflict, a
	// missing field ErrInvalid.
	CreateAccessKey(ctx context.Context, k AccessKey) error
	// GetAccessKey returns ErrNotFound for an unknown id.
	GetAccessKey(ctx context.Context, id string) (*AccessKey, error)
	// ListAccessKeys returns every key, oldest first.
	ListAccessKeys(ctx context.Context) ([]AccessKey, error)
	// SetAccessKeyDisabled disables or re-enables a key; ErrNotFound when
	// there is none.
	SetAccessKeyDisabled(ctx context.Context, id string, disabled bool) error
	// RotateAccessKey replaces a key's sealed secret (the old secret stops
	// working) and records at as RotatedAt; ErrNotFound when there is none.
	RotateAccessKey(ctx context.Context, id string, sealed []byte, at time.Time) error
	// DeleteAccessKey removes a key; ErrNotFound when there is none.
	DeleteAccessKey(ctx context.Context, id string) error
	// TouchAccessKey records a use (LastUsedAt = at, never moving back); an
	// unknown id is no error.
	TouchAccessKey(ctx context.Context, id string, at time.Time) error
}

// AccessKey is one access-key pair's record: its public id, what it may do
// and its sealed secret.
type AccessKey struct {
	ID     string // public, AWS-style access key id
	Name   string // what the key is for, chosen by its creator
	Role   string // viewer, editor or owner
	PoolID string // the one pool the key may touch; empty for every pool
	// Sealed is the secret access key, encrypted by the gateway.
	Sealed                           []byte
	Disabled                         bool
	CreatedBy                        string
	CreatedAt, RotatedAt, LastUsedAt time.Time
}

func checkAccessKey(k AccessKey) error {
	if k.ID == "" || k.Name == "" || k.Role == "" || len(k.Sealed) == 0 || k.CreatedAt.IsZero() {
		return errors.New("access key needs an id, a name, a role, a sealed secret and a creation time")
	}
	return checkText(k.ID, k.Name, k.Role, k.PoolID, k.CreatedBy)
}
