package rules

import (
	"fmt"
	"math/bits"
	"strings"
	"time"

	"fedgate/exchange/arn"
)

// Decision is the outcome of mapping one set of claims.
type Decision struct {
	// Grants are the roles offered, best first; empty means denied.
	Grants []Grant
	// Source is where the grants came from: "rule", "token",
	// "default_role" or "none".
	Source string
}

// Denied reports whether no role was granted.
func (d Decision) Denied() bool { return len(d.Grants) == 0 }

// Grant is one role the claims may assume. Tags is shared with the
// Mapping and must be treated as read-only.
type Grant struct {
	Role string
	// Rule names the grant's origin: a rule name, "token:<claim>" or
	// "default".
	Rule          string
	SessionPolicy string        // compact JSON, "" for none
	Duration      time.Duration // 0 means the pool default
	Tags          map[string]string
	// Provider is the IAM identity provider ARN paired with the role in a
	// "roleArn,providerArn" token value (SAML Role attribute style), if any.
	Provider string
}

// Step is one line of an Explain trace. Index is the rule's position in
// the Spec, or -1 for the token, default-role and denial steps.
type Step struct {
	Index   int
	Rule    string
	Matched bool
	Detail  string
}

// Evaluate maps claims to a Decision. It is the hot path: no trace is
// built and, for string claims, the only allocation is the grant list.
func (m *Mapping) Evaluate(claims map[string]any) Decision {
	return m.decide(claims, nil)
}

// Explain makes the same Decision as Evaluate and says why, rule by rule.
func (m *Mapping) Explain(claims map[string]any) (Decision, []Step) {
	var steps []Step
	d := m.decide(claims, &steps)
	return d, steps
}

// decide is Evaluate and Explain in one; trace is nil on the hot path.
func (m *Mapping) decide(claims map[string]any, trace *[]Step) Decision {
	if m.hasRolesClaim {
		grants, detail := m.tokenGrants(claims, trace != nil)
		if trace != nil {
			*trace = append(*trace, Step{Index: -1, Rule: "token:" + m.rolesClaim.String(), Matched: len(grants) > 0, Detail: detail})
		}
		if len(grants) > 0 {
			return Decision{Grants: m.preferFirst(claims, grants), Source: SourceToken}
		}
	}
	if grants := m.matchRules(claims, trace); len(grants) > 0 {
		return Decision{Grants: m.preferFirst(claims, grants), Source: SourceRule}
	}
	if m.defaultGrant != nil {
		if trace != nil {
			*trace = append(*trace, Step{Index: -1, Rule: "default", Matched: true, Detail: "no rule matched; no_match is default_role"})
		}
		return Decision{Grants: []Grant{*m.defaultGrant}, Source: SourceDefaultRole}
	}
	if trace != nil {
		*trace = append(*trace, Step{Index: -1, Rule: "none", Detail: "no rule matched; denied"})
	}
	return Decision{Source: SourceNone}
}

// matchRules applies the rules by the configured resolution. Evaluate
// tests only the candidates the index gives; Explain tests every rule, as
// its trace lists each one.
func (m *Mapping) matchRules(claims map[string]any, trace *[]Step) []Grant {
	g := grantCollector{m: m, claims: claims}
	if trace != nil {
		for i := range m.rules {
			if !g.try(i, trace) {
				break
			}
		}
		return g.grants
	}
	var cand ruleSet
	m.index.candidates(claims, &cand)
	for w := range m.index.words {
		for word := cand[w]; word != 0; word &= word - 1 {
			if !g.try(w<<6|bits.TrailingZeros64(word), nil) {
				return g.grants
			}
		}
	}
	return g.grants
}

// matchRulesLinear is matchRules without the index, for tests.
func (m *Mapping) matchRulesLinear(claims map[string]any) []Grant {
	g := grantCollector{m: m, claims: claims}
	for i := range m.rules {
		if !g.try(i, nil) {
			break
		}
	}
	return g.grants
}

// grantCollector gathers the grants of the rules tried in order.
type grantCollector struct {
	m      *Mapping
	claims map[string]any
	act    *claimsActivation
	grants []Grant
	// Roles already granted, for all_matches de-duplication: a bit mask
	// covers the usual handful of roles without allocating.
	seenMask  uint64
	seenSlice []bool
}

// try tests rule i and reports whether to go on with the next rule.
func (g *grantCollector) try(i int, trace *[]Step) bool {
	r := &g.m.rules[i]
	if r.cel != nil && g.act == nil {
		g.act = &claimsActivation{claims: g.claims}
	}
	matched, detail := r.match(g.claims, g.act, trace != nil)
	if trace != nil {
		*trace = append(*trace, Step{Index: r.index, Rule: r.grant.Rule, Matched: matched, Detail: detail})
	}
	if !matched {
		return true
	}
	if !g.m.allMatches {
		g.grants = []Grant{r.grant}
		return false
	}
	if g.m.numRoles <= 64 {
		bit := uint64(1) << r.roleID
		if g.seenMask&bit != 0 {
			return true
		}
		g.seenMask |= bit
	} else {
		if g.seenSlice == nil {
			g.seenSlice = make([]bool, g.m.numRoles)
		}
		if g.seenSlice[r.roleID] {
			return true
		}
		g.seenSlice[r.roleID] = true
	}
	g.grants = append(g.grants, r.grant)
	return true
}

// match reports whether every condition and the CEL expression hold. With
// explain set it also describes each test up to the first that failed.
func (r *rule) match(claims map[string]any, act *claimsActivation, explain bool) (bool, string) {
	var parts []string
	for i := range r.conds {
		c := &r.conds[i]
		o := c.evaluate(claims)
		if explain {
			parts = append(parts, c.describe(o))
		}
		if !o.held {
			return false, strings.Join(parts, "; ")
		}
	}
	if r.cel != nil {
		ok, err := evalCEL(r.cel, act)
		if explain {
			switch {
			case err != nil:
				parts = append(parts, fmt.Sprintf("cel error: %v", err))
			default:
				parts = append(parts, fmt.Sprintf("cel = %t", ok))
			}
		}
		if !ok {
			return false, strings.Join(parts, "; ")
		}
	}
	if explain && len(parts) == 0 {
		parts = append(parts, "no conditions: matches everyone")
	}
	return true, strings.Join(parts, "; ")
}

// preferFirst moves the role named by PreferredRoleClaim to the front when
// it is among the grants.
func (m *Mapping) preferFirst(claims map[string]any, grants []Grant) []Grant {
	if !m.hasPreferred || len(grants) < 2 {
		return grants
	}
	v, ok := m.preferredClaim.Lookup(claims)
	if !ok {
		return grants
	}
	want, ok := scalarString(v)
	if !ok {
		if n, isList := listLen(v); isList && n > 0 {
			want, ok = listElem(v, 0)
		}
	}
	if !ok {
		return grants
	}
	for i := 1; i < len(grants); i++ {
		if grants[i].Role == want {
			g := grants[i]
			copy(grants[1:i+1], grants[:i])
			grants[0] = g
			break
		}
	}
	return grants
}

// tokenGrants reads role ARNs from RolesClaim. Values that are not role
// ARNs are dropped; a "roleArn,providerArn" pair (either order) also
// yields the provider.
func (m *Mapping) tokenGrants(claims map[string]any, explain bool) ([]Grant, string) {
	v, ok := m.rolesClaim.Lookup(claims)
	if !ok || !present(v) {
		return nil, fmt.Sprintf("claim %q absent; using rules", m.rolesClaim.String())
	}
	rule := "token:" + m.rolesClaim.String()
	var grants []Grant
	dropped := 0
	add := func(raw string) {
		g, ok := parseTokenRole(m.flavor, raw)
		if !ok || len(grants) >= maxRolesInClaim {
			dropped++
			return
		}
		for _, prev := range grants {
			if prev.Role == g.Role {
				return
			}
		}
		g.Rule = rule
		grants = append(grants, g)
	}
	if n, isList := listLen(v); isList {
		for i := range n {
			if s, ok := listElem(v, i); ok {
				add(s)
			} else {
				dropped++
			}
		}
	} else if s, ok := v.(string); ok {
		add(s)
	} else {
		dropped++
	}
	if !explain {
		return grants, ""
	}
	if len(grants) == 0 {
		return nil, fmt.Sprintf("claim %q holds no valid role ARN (%d dropped); using rules", m.rolesClaim.String(), dropped)
	}
	return grants, fmt.Sprintf("%d role(s) from claim %q, %d invalid value(s) dropped", len(grants), m.rolesClaim.String(), dropped)
}

// parseTokenRole reads "roleArn" or "roleArn,providerArn" (in either
// order, as the SAML Role attribute allows).
func parseTokenRole(flavor arn.Flavor, raw string) (Grant, bool) {
	first, second, pair := strings.Cut(raw, ",")
	first, second = strings.TrimSpace(first), strings.TrimSpace(second)
	if !pair {
		return Grant{Role: first}, flavor.IsRole(first)
	}
	if flavor.IsRole(second) && !flavor.IsRole(first) {
		first, second = second, first
	}
	if !flavor.IsRole(first) || !validProviderARN(second) {
		return Grant{}, false
	}
	return Grant{Role: first, Provider: second}, true
}

// validProviderARN checks the IAM identity provider a token role names:
// a SAML provider (the SAML Role attribute) or an OIDC provider.
func validProviderARN(s string) bool {
	return arn.IsSAMLProvider(s) || arn.IsOIDCProvider(s)
}
