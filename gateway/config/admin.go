package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"fedgate/exchange/rules"
)

// Admin roles, least to most powerful.
const (
	AdminViewer = "viewer" // reads mappings, history and audit; simulates
	AdminEditor = "editor" // also changes providers, pools and rules
	AdminOwner  = "owner"  // also restores versions and applies whole documents
)

// Default lifetime of an admin session.
const DefaultAdminSessionTTL = time.Hour

// MinAdminTokenLen is the shortest API token accepted: it must be a secret
// nobody can guess, not a password.
const MinAdminTokenLen = 32

// Admin configures the admin UI and API (/admin). Who is an admin is a rule
// set over the claims of a sign-in through one of Providers.
type Admin struct {
	// Providers admins sign in with (ids of configured providers).
	Providers []string `yaml:"providers" json:"providers,omitempty"`
	// Rules give roles: every rule that matches grants its role; the most
	// powerful granted role applies.
	Rules []AdminRule `yaml:"rules" json:"rules,omitempty"`
	// SessionTTL bounds an admin session (default 1h).
	SessionTTL Duration `yaml:"session_ttl" json:"session_ttl,omitempty"`
	// APITokenEnv names the environment variable holding the automation
	// token; only its SHA-256 is kept.
	APITokenEnv string `yaml:"api_token_env" json:"api_token_env,omitempty"`
	// APITokenRole is the token's role (default editor).
	APITokenRole string `yaml:"api_token_role" json:"api_token_role,omitempty"`

	// APITokenSHA256 is the hex SHA-256 of the token read from APITokenEnv
	// at load time; the token itself is not kept.
	APITokenSHA256 string `yaml:"-" json:"-"`
}

// AdminRule maps claims to an admin role, with the conditions of pool rules.
type AdminRule struct {
	Name  string            `yaml:"name" json:"name,omitempty"`
	Match []rules.Condition `yaml:"match" json:"match,omitempty"`
	CEL   string            `yaml:"cel" json:"cel,omitempty"`
	Role  string            `yaml:"role" json:"role"`
}

// Enabled reports whether anyone can use /admin.
func (a *Admin) Enabled() bool { return len(a.Providers) > 0 || a.APITokenSHA256 != "" }

// AdminRoleRank orders roles; 0 is no role.
func AdminRoleRank(role string) int {
	switch role {
	case AdminViewer:
		return 1
	case AdminEditor:
		return 2
	case AdminOwner:
		return 3
	}
	return 0
}

// adminRoleARN is the placeholder role a compiled admin rule grants: the
// rules engine maps claims to role ARNs, and these never reach AWS.
func adminRoleARN(role string) string {
	return "arn:aws:iam::000000000000:role/fedgate-admin-" + role
}

var adminRoleFromARN = regexp.MustCompile(`^arn:aws:iam::000000000000:role/fedgate-admin-(viewer|editor|owner)$`)

// AdminRoleOf reads the admin role back from a grant of CompileAdminRules.
func AdminRoleOf(grantRole string) string {
	m := adminRoleFromARN.FindStringSubmatch(grantRole)
	if m == nil {
		return ""
	}
	return m[1]
}

// CompileAdminRules compiles the admin rules with the pool rules engine
// (all matches; the caller takes the most powerful role).
func (a *Admin) CompileAdminRules() (*rules.Mapping, []rules.Problem) {
	spec := rules.Spec{Resolution: rules.AllMatches}
	for _, r := range a.Rules {
		spec.Rules = append(spec.Rules, rules.RuleSpec{Name: r.Name, Match: r.Match, CEL: r.CEL, Role: adminRoleARN(r.Role)})
	}
	return rules.Compile(spec)
}

func (a *Admin) applyDefaults() {
	if a.SessionTTL == 0 {
		a.SessionTTL = Duration(DefaultAdminSessionTTL)
	}
	if a.APITokenRole == "" {
		a.APITokenRole = AdminEditor
	}
}

// resolveAdminToken reads the API token from the environment and keeps its hash.
func (a *Admin) resolveAdminToken(env LookupEnv) Problems {
	if a.APITokenEnv == "" {
		return nil
	}
	v, ok := env(a.APITokenEnv)
	switch {
	case !ok || v == "":
		return Problems{{Path: "admin.api_token_env", Message: fmt.Sprintf("environment variable %s is not set", a.APITokenEnv)}}
	case len(v) < MinAdminTokenLen:
		return Problems{{Path: "admin.api_token_env", Message: fmt.Sprintf("the token in %s must be at least %d characters (e.g. openssl rand -base64 32)", a.APITokenEnv, MinAdminTokenLen)}}
	}
	sum := sha256.Sum256([]byte(v))
	a.APITokenSHA256 = hex.EncodeToString(sum[:])
	return nil
}

var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (f *File) validateAdmin(providers map[string]*Provider, add func(string, string, ...any)) {
	a := &f.Admin
	for i, id := range a.Providers {
		if providers[id] == nil {
			add(fmt.Sprintf("admin.providers[%d]", i), "unknown provider %q", id)
		}
	}
	if len(a.Providers) > 0 && len(a.Rules) == 0 {
		add("admin.rules", "admin sign-in is enabled, so at least one rule must say who is an admin")
	}
	for i, r := range a.Rules {
		if AdminRoleRank(r.Role) == 0 {
			add(fmt.Sprintf("admin.rules[%d].role", i), "must be viewer, editor or owner")
		}
	}
	if _, problems := a.CompileAdminRules(); len(problems) > 0 {
		for _, p := range problems {
			if strings.HasSuffix(p.Path, ".role") {
				continue // reported above with the admin's own words
			}
			add("admin."+p.Path, "%s", p.Message)
		}
	}
	if d := a.SessionTTL.D(); d < time.Minute || d > 24*time.Hour {
		add("admin.session_ttl", "must be between 1m and 24h")
	}
	if a.APITokenEnv != "" && !envNamePattern.MatchString(a.APITokenEnv) {
		add("admin.api_token_env", "must be an environment variable name")
	}
	if AdminRoleRank(a.APITokenRole) == 0 {
		add("admin.api_token_role", "must be viewer, editor or owner")
	}
}
