package core

// Access keys: the AWS-style key pairs backends and scripts sign Cognito
// API requests with. The secret is shown once, at creation or rotation,
// and kept sealed with the master key, since SigV4 verification needs it
// back. Every change is audited like an admin edit.

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
	"unicode/utf8"

	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// AccessKeyPrefix starts every access key id fedgate issues, as AKIA
// starts AWS's long-term keys; it makes them easy to spot in logs and
// secret scanners.
const AccessKeyPrefix = "FGAK"

// maxAccessKeyName bounds a key's name.
const maxAccessKeyName = 64

var (
	accessKeyIDPattern = regexp.MustCompile(`^` + AccessKeyPrefix + `[A-Z2-7]{16}$`)
	poolIDPattern      = regexp.MustCompile(`^[\w-]+:[0-9a-f-]+$`)
)

// ErrAccessKeyNotFound is returned for an unknown or malformed key id.
var ErrAccessKeyNotFound = errors.New("no such access key")

// AccessKeys creates, lists, disables, rotates and deletes access keys and
// resolves one for SigV4 verification. It needs no live configuration, so
// the offline `fedgate access-keys` command uses it as the server does.
type AccessKeys struct {
	store store.Store
	box   *secret.Box
	now   func() time.Time
	rand  io.Reader
}

// NewAccessKeys manages the access keys in st, sealing secrets with box.
// A nil rnd is crypto/rand.
func NewAccessKeys(st store.Store, box *secret.Box, now func() time.Time, rnd io.Reader) *AccessKeys {
	if rnd == nil {
		rnd = rand.Reader
	}
	return &AccessKeys{store: st, box: box, now: now, rand: rnd}
}

// AccessKeys is the core's access-key manager.
func (s *Core) AccessKeys() *AccessKeys { return NewAccessKeys(s.store, s.box, s.now, s.rand) }

// NewAccessKey is what creating a key asks for.
type NewAccessKey struct {
	Name, Role, PoolID string
}

// Validate lists what is wrong with the request (nil when nothing is).
func (n NewAccessKey) Validate() error {
	var errs []error
	if n.Name == "" || utf8.RuneCountInString(n.Name) > maxAccessKeyName || !printable(n.Name) {
		errs = append(errs, fmt.Errorf("name: give 1 to %d printable characters", maxAccessKeyName))
	}
	if config.AdminRoleRank(n.Role) == 0 {
		errs = append(errs, errors.New("role: must be viewer, editor or owner"))
	}
	if n.PoolID != "" && (len(n.PoolID) > 55 || !poolIDPattern.MatchString(n.PoolID)) {
		errs = append(errs, errors.New("pool: must be an identity pool id (REGION:UUID)"))
	}
	return errors.Join(errs...)
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}

func accessKeyAAD(id string) []byte { return []byte("access-key\x00" + id) }

// newSecret is 30 random bytes in base64: 40 characters, like AWS's.
func (a *AccessKeys) newSecret(id string) (plain string, sealed []byte, err error) {
	b := make([]byte, 30)
	if _, err := io.ReadFull(a.rand, b); err != nil {
		return "", nil, fmt.Errorf("generating a secret: %w", err)
	}
	plain = base64.StdEncoding.EncodeToString(b)
	sealed, err = a.box.Seal([]byte(plain), accessKeyAAD(id))
	return plain, sealed, err
}

// Create makes a key pair and returns its record and its secret, which is
// never shown again.
func (a *AccessKeys) Create(ctx context.Context, n NewAccessKey, actor string) (store.AccessKey, string, error) {
	if err := n.Validate(); err != nil {
		return store.AccessKey{}, "", err
	}
	raw := make([]byte, 10)
	if _, err := io.ReadFull(a.rand, raw); err != nil {
		return store.AccessKey{}, "", fmt.Errorf("generating a key id: %w", err)
	}
	id := AccessKeyPrefix + base32.StdEncoding.EncodeToString(raw)
	plain, sealed, err := a.newSecret(id)
	if err != nil {
		return store.AccessKey{}, "", err
	}
	k := store.AccessKey{ID: id, Name: n.Name, Role: n.Role, PoolID: n.PoolID, Sealed: sealed, CreatedBy: actor, CreatedAt: a.now()}
	if err := a.store.CreateAccessKey(ctx, k); err != nil {
		return store.AccessKey{}, "", err
	}
	scope := "every pool"
	if n.PoolID != "" {
		scope = "pool " + n.PoolID
	}
	a.audit(ctx, actor, n.PoolID, fmt.Sprintf("access key %s (%s) created: role %s, %s", id, n.Name, n.Role, scope))
	k.Sealed = nil
	return k, plain, nil
}

// List returns every key without its sealed secret, oldest first.
func (a *AccessKeys) List(ctx context.Context) ([]store.AccessKey, error) {
	keys, err := a.store.ListAccessKeys(ctx)
	for i := range keys {
		keys[i].Sealed = nil
	}
	return keys, err
}

func (a *AccessKeys) get(ctx context.Context, id string) (*store.AccessKey, error) {
	if !accessKeyIDPattern.MatchString(id) {
		return nil, ErrAccessKeyNotFound
	}
	k, err := a.store.GetAccessKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrAccessKeyNotFound
	}
	return k, err
}

// SetDisabled disables a key (its signatures are refused at once) or
// enables it again.
func (a *AccessKeys) SetDisabled(ctx context.Context, id string, disabled bool, actor string) error {
	k, err := a.get(ctx, id)
	if err != nil {
		return err
	}
	if err := a.store.SetAccessKeyDisabled(ctx, id, disabled); err != nil {
		return notFound(err)
	}
	verb := "enabled"
	if disabled {
		verb = "disabled"
	}
	a.audit(ctx, actor, k.PoolID, fmt.Sprintf("access key %s (%s) %s", id, k.Name, verb))
	return nil
}

// Rotate gives a key a new secret, returned once; the old one stops
// working at once. (For a change-over without a gap, create a second key,
// move the client to it, then disable the first.)
func (a *AccessKeys) Rotate(ctx context.Context, id, actor string) (string, error) {
	k, err := a.get(ctx, id)
	if err != nil {
		return "", err
	}
	plain, sealed, err := a.newSecret(id)
	if err != nil {
		return "", err
	}
	if err := a.store.RotateAccessKey(ctx, id, sealed, a.now()); err != nil {
		return "", notFound(err)
	}
	a.audit(ctx, actor, k.PoolID, fmt.Sprintf("access key %s (%s) rotated", id, k.Name))
	return plain, nil
}

// Delete removes a key.
func (a *AccessKeys) Delete(ctx context.Context, id, actor string) error {
	k, err := a.get(ctx, id)
	if err != nil {
		return err
	}
	if err := a.store.DeleteAccessKey(ctx, id); err != nil {
		return notFound(err)
	}
	a.audit(ctx, actor, k.PoolID, fmt.Sprintf("access key %s (%s) deleted", id, k.Name))
	return nil
}

// Resolve returns a key and its secret for signature verification, and
// records the use. ErrAccessKeyNotFound for an unknown id; a disabled key
// is returned (the caller refuses it, saying so in the audit log).
func (a *AccessKeys) Resolve(ctx context.Context, id string) (*store.AccessKey, string, error) {
	k, err := a.get(ctx, id)
	if err != nil {
		return nil, "", err
	}
	plain, err := a.box.Open(k.Sealed, accessKeyAAD(id))
	if err != nil {
		return nil, "", fmt.Errorf("opening access key %s: %w", id, err)
	}
	k.Sealed = nil
	return k, string(plain), nil
}

// Touch records that a key signed a request that was accepted.
func (a *AccessKeys) Touch(ctx context.Context, id string) error {
	return a.store.TouchAccessKey(context.WithoutCancel(ctx), id, a.now())
}

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrAccessKeyNotFound
	}
	return err
}

func (a *AccessKeys) audit(ctx context.Context, actor, pool, reason string) {
	e := WithAuditMeta(ctx, store.AuditEntry{Kind: store.AuditAdminChange, Actor: actor, Pool: pool, Result: store.AuditOK, Reason: reason})
	MarkAudited(ctx)
	// Not cancelled with the request: the change has happened.
	_, _ = a.store.AppendAudit(context.WithoutCancel(ctx), e)
}
