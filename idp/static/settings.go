package static

import (
	"context"
	"fmt"
	"regexp"

	"fedgate/idp"
	"fedgate/idp/settings"
)

// Type is the `static` provider type: demo users in the configuration.
func Type() idp.Type {
	return idp.Type{
		Name:    "static",
		Title:   "Static users (demo only)",
		Summary: "Users with bcrypt password hashes in the configuration, for demos and tests; every page labels it as such.",
		New:     func() idp.Config { return &Settings{} },
	}
}

// Settings is a static provider's entry in the configuration.
type Settings struct {
	Users []User `yaml:"users" json:"users,omitempty" label:"Static users" help:"Username, password_hash (fedgate hash-password) and claims of each user."`
}

var bcryptPattern = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)

// ApplyDefaults has nothing to fill in.
func (s *Settings) ApplyDefaults(idp.Site) {}

// Validate reports every problem of the entry.
func (s *Settings) Validate(idp.Site) settings.Problems {
	var ps settings.Problems
	if len(s.Users) == 0 {
		ps.Add("users", "a static provider needs at least one user")
	}
	seen := map[string]bool{}
	for j, u := range s.Users {
		at := fmt.Sprintf("users[%d]", j)
		if u.Username == "" {
			ps.Add(at+".username", "is required")
		} else if seen[u.Username] {
			ps.Add(at+".username", "duplicate user %q", u.Username)
		}
		seen[u.Username] = true
		if !bcryptPattern.MatchString(u.PasswordHash) {
			ps.Add(at+".password_hash", "must be a bcrypt hash (make one with: fedgate hash-password)")
		}
	}
	return ps
}

// Open builds the provider.
func (s *Settings) Open(_ context.Context, env idp.Env) (idp.Provider, error) {
	return New(Config{ID: env.ID, DisplayName: env.DisplayName, Users: s.Users})
}
