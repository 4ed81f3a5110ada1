// Package static is the demo provider type: users, bcrypt password hashes
// and claims listed in the configuration. Not for production.
package static

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"fedgate/idp"
)

// passwordHashCost is the bcrypt cost HashPassword uses.
const passwordHashCost = 12

// maxPasswordBytes is bcrypt's input limit; longer passwords would be
// silently truncated, so they are refused instead.
const maxPasswordBytes = 72

// dummyPassword is hashed at construction so that unknown usernames cost
// one bcrypt comparison, like known ones; nobody can sign in with it.
const dummyPassword = "fedgate-static-timing-equaliser"

// User is one configured demo user.
type User struct {
	Username     string         `yaml:"username" json:"username" key:"true"`
	PasswordHash string         `yaml:"password_hash" json:"password_hash" secret:"true"` // bcrypt ($2a$/$2b$/$2y$)
	Claims       map[string]any `yaml:"claims" json:"claims"`
}

// Config configures the static demo provider.
type Config struct {
	ID, DisplayName string
	Users           []User
}

// Provider is a demo/development provider whose users live in the config.
// It implements idp.Provider and idp.PasswordLogin.
type Provider struct {
	id, displayName string
	users           map[string]User
	dummyHash       []byte
}

var (
	_ idp.Provider      = (*Provider)(nil)
	_ idp.PasswordLogin = (*Provider)(nil)
)

// New validates that every hash is bcrypt and usernames are unique,
// reporting every problem at once.
func New(cfg Config) (*Provider, error) {
	var errs []error
	if cfg.ID == "" {
		errs = append(errs, errors.New("id is required"))
	}
	if len(cfg.Users) == 0 {
		errs = append(errs, errors.New("at least one user is required"))
	}
	users := make(map[string]User, len(cfg.Users))
	maxCost := bcrypt.MinCost
	for i, u := range cfg.Users {
		if u.Username == "" {
			errs = append(errs, fmt.Errorf("user %d: username is required", i))
			continue
		}
		if _, dup := users[u.Username]; dup {
			errs = append(errs, fmt.Errorf("user %q: duplicate username", u.Username))
			continue
		}
		cost, err := bcryptCost(u.PasswordHash)
		if err != nil {
			errs = append(errs, fmt.Errorf("user %q: %w", u.Username, err))
			continue
		}
		maxCost = max(maxCost, cost)
		users[u.Username] = u
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: static provider %q: %w", idp.ErrInvalidConfig, cfg.ID, err)
	}
	// The dummy uses the highest configured cost so a miss is never faster
	// than a hit.
	dummy, err := bcrypt.GenerateFromPassword([]byte(dummyPassword), maxCost)
	if err != nil {
		return nil, fmt.Errorf("static provider %q: timing dummy: %w", cfg.ID, err)
	}
	return &Provider{id: cfg.ID, displayName: cfg.DisplayName, users: users, dummyHash: dummy}, nil
}

func bcryptCost(hash string) (int, error) {
	if !strings.HasPrefix(hash, "$2a$") && !strings.HasPrefix(hash, "$2b$") && !strings.HasPrefix(hash, "$2y$") {
		return 0, errors.New("password_hash must be a bcrypt hash ($2a$, $2b$ or $2y$)")
	}
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return 0, fmt.Errorf("password_hash is not a valid bcrypt hash: %w", err)
	}
	return cost, nil
}

// HashPassword returns a bcrypt hash (cost 12) for a static user's config.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("password must not be empty")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), passwordHashCost)
	if err != nil {
		return "", err
	}
	return string(hash), nil
}

// ID returns the provider id from the config.
func (s *Provider) ID() string { return s.id }

// Type returns "static".
func (s *Provider) Type() string { return "static" }

// DisplayName returns the name shown on the sign-in page.
func (s *Provider) DisplayName() string { return s.displayName }

// IsDemo marks this provider as unfit for production so surfaces can say so.
func (s *Provider) IsDemo() bool { return true }

// Authenticate checks username and password. Unknown users still cost one
// bcrypt comparison so response time does not reveal which usernames exist.
func (s *Provider) Authenticate(ctx context.Context, username, password string) (*idp.Identity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	user, known := s.users[username]
	hash := s.dummyHash
	if known {
		hash = []byte(user.PasswordHash)
	}
	matched := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if !known || !matched || len(password) > maxPasswordBytes {
		return nil, idp.ErrBadCredentials
	}
	claims := copyClaims(user.Claims)
	claims["sub"] = user.Username
	claims["preferred_username"] = user.Username
	return &idp.Identity{Provider: s.id, Subject: user.Username, Claims: claims}, nil
}

// copyClaims deep-copies maps and lists so callers cannot alter the
// configured claims through an Identity.
func copyClaims(claims map[string]any) map[string]any {
	out := make(map[string]any, len(claims)+2)
	for k, v := range claims {
		out[k] = copyClaimValue(v)
	}
	return out
}

func copyClaimValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return copyClaims(t)
	case []any:
		out := make([]any, len(t))
		for i, item := range t {
			out[i] = copyClaimValue(item)
		}
		return out
	case []string:
		return append([]string(nil), t...)
	default:
		return v
	}
}
