package rules

import "fedgate/exchange/arn"

// Condition tests one claim. See the package documentation for the path
// syntax and how each operator treats lists and non-string values.
type Condition struct {
	// Claim is the claim path, e.g. "email", "org.dept" or
	// `"https://example.com/claims".team`.
	Claim string `yaml:"claim,omitempty" json:"claim,omitempty"`
	// Op is one of equals, not_equals, contains, starts_with, ends_with,
	// glob, regex, exists, any_of.
	Op string `yaml:"op,omitempty" json:"op,omitempty"`
	// Value is the operand of every operator but exists and any_of.
	Value string `yaml:"value,omitempty" json:"value,omitempty"`
	// Values is the operand of any_of.
	Values []string `yaml:"values,omitempty" json:"values,omitempty"`
}

// RuleSpec is one claim-to-role rule: every Match condition and the CEL
// expression (when set) must hold.
type RuleSpec struct {
	Name  string      `yaml:"name,omitempty" json:"name,omitempty"`
	Match []Condition `yaml:"match,omitempty" json:"match,omitempty"`
	// CEL is an optional bool expression over `claims`.
	CEL string `yaml:"cel,omitempty" json:"cel,omitempty"`
	// Role is the IAM role ARN this rule grants.
	Role string `yaml:"role,omitempty" json:"role,omitempty"`
	// SessionPolicy is an optional inline JSON policy object.
	SessionPolicy string `yaml:"session_policy,omitempty" json:"session_policy,omitempty"`
	// DurationSeconds overrides the pool's credential lifetime (900..43200).
	DurationSeconds int `yaml:"duration_seconds,omitempty" json:"duration_seconds,omitempty"`
	// Tags are extra session tags this rule adds.
	Tags map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// Spec is a pool's whole role mapping, as configured.
type Spec struct {
	// Resolution is "first_match" (default) or "all_matches".
	Resolution string     `yaml:"resolution,omitempty" json:"resolution,omitempty"`
	Rules      []RuleSpec `yaml:"rules,omitempty" json:"rules,omitempty"`
	// RolesClaim names a claim carrying role ARNs (a list or one string;
	// each value "roleArn" or "roleArn,providerArn" in either order).
	RolesClaim string `yaml:"roles_claim,omitempty" json:"roles_claim,omitempty"`
	// PreferredRoleClaim names a claim whose role goes first when granted.
	PreferredRoleClaim string `yaml:"preferred_role_claim,omitempty" json:"preferred_role_claim,omitempty"`
	// NoMatch is "deny" (default) or "default_role".
	NoMatch string `yaml:"no_match,omitempty" json:"no_match,omitempty"`
	// DefaultRole is the pool's authenticated role, for NoMatch=default_role.
	DefaultRole string `yaml:"default_role,omitempty" json:"default_role,omitempty"`
	// PrincipalTags maps a session tag key to the claim path its value is
	// read from. AWS tags are single-valued: a list claim with one element
	// gives that element, a longer list is refused at run time.
	PrincipalTags map[string]string `yaml:"principal_tags,omitempty" json:"principal_tags,omitempty"`
	// TransitiveTagKeys must each be a principal tag key or a rule tag key.
	TransitiveTagKeys []string `yaml:"transitive_tag_keys,omitempty" json:"transitive_tag_keys,omitempty"`
	// RoleFlavor is the STS the roles belong to (sts.flavor), which says
	// what a valid role ARN is; empty is AWS. Not part of a pool's document.
	RoleFlavor arn.Flavor `yaml:"-" json:"-"`
}

// Resolution and NoMatch values.
const (
	FirstMatch  = "first_match"
	AllMatches  = "all_matches"
	Deny        = "deny"
	DefaultRole = "default_role"
)

// Decision sources.
const (
	SourceRule        = "rule"
	SourceToken       = "token"
	SourceDefaultRole = "default_role"
	SourceNone        = "none"
)

// Problem is one thing wrong with a Spec, located by a config path such as
// "rules[2].match[0].value".
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Path + ": " + p.Message }
