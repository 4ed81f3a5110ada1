package rules

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/cel-go/cel"

	"fedgate/exchange/arn"
)

// Sanity limits on a Spec's size.
const (
	MaxRules         = 1000
	maxConditions    = 64
	maxRolesInClaim  = 100
	maxTransitiveKey = MaxSessionTags
)

// problems collects every Problem found while compiling.
type problems []Problem

func (p *problems) add(path, message string) {
	*p = append(*p, Problem{Path: path, Message: message})
}

// Mapping is a compiled Spec. It is immutable and safe for concurrent use.
type Mapping struct {
	allMatches     bool
	rules          []rule
	numRoles       int
	rolesClaim     ClaimPath
	hasRolesClaim  bool
	preferredClaim ClaimPath
	hasPreferred   bool
	defaultGrant   *Grant // nil when NoMatch is deny
	principalTags  []tagSource
	transitive     []string
	index          ruleIndex
	flavor         arn.Flavor
}

// rule is a compiled RuleSpec.
type rule struct {
	index  int
	conds  []condition
	cel    cel.Program // nil without CEL
	grant  Grant
	roleID int // dense id of grant.Role, for de-duplication
}

// tagSource is one principal tag: a key and the claim it is read from.
type tagSource struct {
	key  string
	path ClaimPath
}

// Compile validates spec and builds its Mapping. It reports every problem
// at once; the Mapping is nil whenever there is at least one.
func Compile(spec Spec) (*Mapping, []Problem) {
	var probs problems
	m := &Mapping{flavor: spec.RoleFlavor}

	switch spec.Resolution {
	case "", FirstMatch:
	case AllMatches:
		m.allMatches = true
	default:
		probs.add("resolution", fmt.Sprintf("unknown value %q (want first_match or all_matches)", spec.Resolution))
	}

	if spec.DefaultRole != "" && !m.flavor.IsRole(spec.DefaultRole) {
		probs.add("default_role", roleProblem(m.flavor))
	}
	switch spec.NoMatch {
	case "", Deny:
	case DefaultRole:
		if spec.DefaultRole == "" {
			probs.add("default_role", "is required when no_match is default_role")
		}
		m.defaultGrant = &Grant{Role: spec.DefaultRole, Rule: "default"}
	default:
		probs.add("no_match", fmt.Sprintf("unknown value %q (want deny or default_role)", spec.NoMatch))
	}

	m.rolesClaim, m.hasRolesClaim = optionalPath(spec.RolesClaim, "roles_claim", &probs)
	m.preferredClaim, m.hasPreferred = optionalPath(spec.PreferredRoleClaim, "preferred_role_claim", &probs)

	m.principalTags = compilePrincipalTags(spec.PrincipalTags, &probs)
	m.rules, m.numRoles = compileRules(spec.Rules, m.flavor, len(spec.PrincipalTags), lowerKeys(spec.PrincipalTags), &probs)
	m.transitive = compileTransitive(spec, &probs)

	if len(probs) > 0 {
		return nil, probs
	}
	m.index = buildIndex(m.rules)
	return m, nil
}

// optionalPath parses a claim path that may be left empty.
func optionalPath(raw, at string, probs *problems) (ClaimPath, bool) {
	if raw == "" {
		return ClaimPath{}, false
	}
	p, err := ParseClaimPath(raw)
	if err != nil {
		probs.add(at, err.Error())
		return ClaimPath{}, false
	}
	return p, true
}

func compileRules(specs []RuleSpec, flavor arn.Flavor, principalTagCount int, principalKeys map[string]string, probs *problems) ([]rule, int) {
	if len(specs) > MaxRules {
		probs.add("rules", fmt.Sprintf("%d rules; at most %d are allowed", len(specs), MaxRules))
		return nil, 0
	}
	var celc celCompiler
	roleIDs := map[string]int{}
	names := map[string]int{}
	out := make([]rule, len(specs))
	for i, spec := range specs {
		at := fmt.Sprintf("rules[%d]", i)
		r := rule{index: i}
		name := spec.Name
		if name == "" {
			name = at
		} else if first, dup := names[name]; dup {
			probs.add(at+".name", fmt.Sprintf("duplicates the name of rules[%d]", first))
		} else {
			names[name] = i
		}

		if len(spec.Match) > maxConditions {
			probs.add(at+".match", fmt.Sprintf("%d conditions; at most %d are allowed", len(spec.Match), maxConditions))
		} else {
			r.conds = make([]condition, len(spec.Match))
			for j, c := range spec.Match {
				r.conds[j] = compileCondition(c, fmt.Sprintf("%s.match[%d]", at, j), probs)
			}
		}
		if spec.CEL != "" {
			prg, err := celc.compile(spec.CEL)
			if err != nil {
				probs.add(at+".cel", err.Error())
			}
			r.cel = prg
		}

		switch {
		case spec.Role == "":
			probs.add(at+".role", "is required")
		case !flavor.IsRole(spec.Role):
			probs.add(at+".role", roleProblem(flavor))
		}
		policy := ""
		if spec.SessionPolicy != "" {
			var err error
			if policy, err = compactPolicy(spec.SessionPolicy); err != nil {
				probs.add(at+".session_policy", err.Error())
			}
		}
		if d := spec.DurationSeconds; d != 0 && (d < MinDurationSeconds || d > MaxDurationSeconds) {
			probs.add(at+".duration_seconds", fmt.Sprintf("%d is outside %d..%d", d, MinDurationSeconds, MaxDurationSeconds))
		}
		checkRuleTags(spec.Tags, at, principalTagCount, principalKeys, probs)

		id, seen := roleIDs[spec.Role]
		if !seen {
			id = len(roleIDs)
			roleIDs[spec.Role] = id
		}
		r.roleID = id
		r.grant = Grant{
			Role:          spec.Role,
			Rule:          name,
			SessionPolicy: policy,
			Duration:      time.Duration(spec.DurationSeconds) * time.Second,
			Tags:          copyTags(spec.Tags),
		}
		out[i] = r
	}
	return out, len(roleIDs)
}

// roleProblem says what a role ARN of the flavor looks like.
func roleProblem(f arn.Flavor) string {
	if f == arn.FlavorMinIO {
		return "not a MinIO role ARN (" + f.RoleExample() + "; sts.flavor is minio)"
	}
	return "not an IAM role ARN (" + f.RoleExample() + ")"
}

// checkRuleTags validates a rule's extra tags, alone and together with the
// principal tags they are sent with.
func checkRuleTags(tags map[string]string, at string, principalTagCount int, principalKeys map[string]string, probs *problems) {
	if n := len(tags) + principalTagCount; len(tags) > 0 && n > MaxSessionTags {
		probs.add(at+".tags", fmt.Sprintf("%d session tags with principal_tags; AWS accepts at most %d", n, MaxSessionTags))
	}
	seen := map[string]string{}
	for _, k := range sortedKeys(tags) {
		kp := at + ".tags." + k
		if err := ValidateTag(k, tags[k]); err != nil {
			probs.add(kp, tagProblem(err))
		}
		// STS compares tag keys case-insensitively.
		lk := strings.ToLower(k)
		if other, dup := principalKeys[lk]; dup {
			probs.add(kp, fmt.Sprintf("duplicates principal_tags key %q (tag keys are case-insensitive)", other))
		} else if other, dup := seen[lk]; dup {
			probs.add(kp, fmt.Sprintf("duplicates tag key %q (tag keys are case-insensitive)", other))
		}
		seen[lk] = k
	}
}

func compilePrincipalTags(tags map[string]string, probs *problems) []tagSource {
	if len(tags) > MaxSessionTags {
		probs.add("principal_tags", fmt.Sprintf("%d tags; AWS accepts at most %d", len(tags), MaxSessionTags))
	}
	out := make([]tagSource, 0, len(tags))
	seen := map[string]string{}
	for _, k := range sortedKeys(tags) {
		at := "principal_tags." + k
		if err := ValidateTag(k, ""); err != nil {
			probs.add(at, tagProblem(err))
		}
		lk := strings.ToLower(k)
		if other, dup := seen[lk]; dup {
			probs.add(at, fmt.Sprintf("duplicates tag key %q (tag keys are case-insensitive)", other))
		}
		seen[lk] = k
		p, err := ParseClaimPath(tags[k])
		if err != nil {
			probs.add(at, "claim path: "+err.Error())
			continue
		}
		out = append(out, tagSource{key: k, path: p})
	}
	return out
}

func compileTransitive(spec Spec, probs *problems) []string {
	if len(spec.TransitiveTagKeys) > maxTransitiveKey {
		probs.add("transitive_tag_keys", fmt.Sprintf("%d keys; AWS accepts at most %d", len(spec.TransitiveTagKeys), maxTransitiveKey))
	}
	known := func(k string) bool {
		if _, ok := spec.PrincipalTags[k]; ok {
			return true
		}
		for _, r := range spec.Rules {
			if _, ok := r.Tags[k]; ok {
				return true
			}
		}
		return false
	}
	for i, k := range spec.TransitiveTagKeys {
		if !known(k) {
			probs.add(fmt.Sprintf("transitive_tag_keys[%d]", i), fmt.Sprintf("%q is not a principal_tags or rule tag key", k))
		}
	}
	return append([]string(nil), spec.TransitiveTagKeys...)
}

// tagProblem is a TagError's detail without the "rules:" log prefix.
func tagProblem(err error) string {
	var te *TagError
	if errors.As(err, &te) {
		return fmt.Sprintf("%v: %s", te.Kind, te.Detail)
	}
	return err.Error()
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// lowerKeys maps each lower-cased key to the key as written.
func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k := range m {
		out[strings.ToLower(k)] = k
	}
	return out
}

func copyTags(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
