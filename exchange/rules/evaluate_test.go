package rules

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func grantRoles(d Decision) []string {
	roles := make([]string, len(d.Grants))
	for i, g := range d.Grants {
		roles[i] = g.Role
	}
	return roles
}

func TestEvaluate(t *testing.T) {
	rules := []RuleSpec{
		{Name: "admins", Match: []Condition{{Claim: "groups", Op: "equals", Value: "admins"}}, Role: roleAdmin, DurationSeconds: 900},
		{Name: "eng", Match: []Condition{{Claim: "org.dept", Op: "equals", Value: "eng"}}, Role: roleDev},
		{Name: "admins-again", Match: []Condition{{Claim: "email", Op: "ends_with", Value: "@example.com"}}, Role: roleAdmin},
		{Name: "readers", Match: []Condition{{Claim: "email", Op: "exists"}}, Role: roleRead},
	}
	admin := map[string]any{"groups": []any{"admins"}, "org": map[string]any{"dept": "eng"}, "email": "ada@example.com"}
	engineer := map[string]any{"org": map[string]any{"dept": "eng"}}
	stranger := map[string]any{"sub": "x"}
	tokenRoles := map[string]any{
		"cognito:roles":          []any{roleDev, "not-an-arn", roleAdmin + "," + samlIdP, roleDev, 7.0},
		"cognito:preferred_role": roleAdmin,
		"groups":                 []any{"admins"},
	}

	tests := []struct {
		name       string
		spec       Spec
		claims     map[string]any
		wantRoles  []string
		wantRules  []string
		wantSource string
	}{
		{"first match", Spec{Rules: rules}, admin, []string{roleAdmin}, []string{"admins"}, SourceRule},
		{"first match skips non-matching", Spec{Rules: rules}, engineer, []string{roleDev}, []string{"eng"}, SourceRule},
		{"all matches dedupes by role", Spec{Resolution: AllMatches, Rules: rules}, admin,
			[]string{roleAdmin, roleDev, roleRead}, []string{"admins", "eng", "readers"}, SourceRule},
		{"preferred role goes first", Spec{Resolution: AllMatches, Rules: rules, PreferredRoleClaim: "pref"},
			map[string]any{"groups": []any{"admins"}, "org": map[string]any{"dept": "eng"}, "email": "a@b.c", "pref": roleRead},
			[]string{roleRead, roleAdmin, roleDev}, []string{"readers", "admins", "eng"}, SourceRule},
		{"preferred role not granted is ignored", Spec{Resolution: AllMatches, Rules: rules, PreferredRoleClaim: "pref"},
			map[string]any{"org": map[string]any{"dept": "eng"}, "email": "a@b.c", "pref": roleAdmin},
			[]string{roleDev, roleRead}, []string{"eng", "readers"}, SourceRule},
		{"no match denies", Spec{Rules: rules}, stranger, nil, nil, SourceNone},
		{"no match explicit deny", Spec{Rules: rules, NoMatch: Deny, DefaultRole: roleAuth}, stranger, nil, nil, SourceNone},
		{"no match default role", Spec{Rules: rules, NoMatch: DefaultRole, DefaultRole: roleAuth}, stranger,
			[]string{roleAuth}, []string{"default"}, SourceDefaultRole},
		{"nil claims", Spec{Rules: rules}, nil, nil, nil, SourceNone},
		{"token roles win over rules", Spec{Rules: rules, RolesClaim: "cognito:roles", PreferredRoleClaim: "cognito:preferred_role"},
			tokenRoles, []string{roleAdmin, roleDev}, []string{"token:cognito:roles", "token:cognito:roles"}, SourceToken},
		{"token single string", Spec{RolesClaim: "roles"}, map[string]any{"roles": roleDev},
			[]string{roleDev}, []string{"token:roles"}, SourceToken},
		{"token claim absent falls back to rules", Spec{Rules: rules, RolesClaim: "cognito:roles"}, engineer,
			[]string{roleDev}, []string{"eng"}, SourceRule},
		{"token claim all invalid falls back to rules", Spec{Rules: rules, RolesClaim: "roles"},
			map[string]any{"roles": []any{"arn:aws:iam::1:role/x", ""}, "org": map[string]any{"dept": "eng"}},
			[]string{roleDev}, []string{"eng"}, SourceRule},
		{"token claim invalid then default", Spec{RolesClaim: "roles", NoMatch: DefaultRole, DefaultRole: roleAuth},
			map[string]any{"roles": "nope"}, []string{roleAuth}, []string{"default"}, SourceDefaultRole},
		{"saml role pair in either order", Spec{RolesClaim: "Role"},
			map[string]any{"Role": []string{samlIdP + "," + roleDev, roleAdmin + ", " + samlIdP}},
			[]string{roleDev, roleAdmin}, []string{"token:Role", "token:Role"}, SourceToken},
		{"saml pair with bad provider dropped", Spec{RolesClaim: "Role"},
			map[string]any{"Role": roleDev + ",junk"}, nil, nil, SourceNone},
		{"role paired with an oidc provider", Spec{RolesClaim: "roles"},
			map[string]any{"roles": roleDev + ",arn:aws:iam::123456789012:oidc-provider/idp.example.com/tenant"},
			[]string{roleDev}, []string{"token:roles"}, SourceToken},
		{"pair with a provider of a short account dropped", Spec{RolesClaim: "Role"},
			map[string]any{"Role": roleDev + ",arn:aws:iam::1234:saml-provider/corp"}, nil, nil, SourceNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, tt.spec)
			d := m.Evaluate(tt.claims)
			if d.Source != tt.wantSource {
				t.Errorf("Source = %q, want %q", d.Source, tt.wantSource)
			}
			if got := grantRoles(d); !slices.Equal(got, tt.wantRoles) {
				t.Errorf("roles = %q, want %q", got, tt.wantRoles)
			}
			var names []string
			for _, g := range d.Grants {
				names = append(names, g.Rule)
			}
			if !slices.Equal(names, tt.wantRules) {
				t.Errorf("rules = %q, want %q", names, tt.wantRules)
			}
			if d.Denied() != (len(tt.wantRoles) == 0) {
				t.Errorf("Denied() = %v", d.Denied())
			}
			explained, _ := m.Explain(tt.claims)
			if !reflect.DeepEqual(explained, d) {
				t.Errorf("Explain decided %+v, Evaluate %+v", explained, d)
			}
		})
	}
}

func TestGrantCarriesRuleSettings(t *testing.T) {
	m := mustCompile(t, Spec{Rules: []RuleSpec{{
		Name: "r", Role: roleAdmin, DurationSeconds: 3600,
		SessionPolicy: `{"Version":"2012-10-17"}`, Tags: map[string]string{"env": "prod"},
	}}})
	got := m.Evaluate(map[string]any{}).Grants
	want := []Grant{{Role: roleAdmin, Rule: "r", Duration: time.Hour,
		SessionPolicy: `{"Version":"2012-10-17"}`, Tags: map[string]string{"env": "prod"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("grants = %+v, want %+v", got, want)
	}
	token := mustCompile(t, Spec{RolesClaim: "r"}).Evaluate(map[string]any{"r": samlIdP + "," + roleDev})
	if g := token.Grants[0]; g.Provider != samlIdP || g.Role != roleDev {
		t.Errorf("token grant = %+v, want role %s with provider %s", g, roleDev, samlIdP)
	}
}

func TestCEL(t *testing.T) {
	spec := Spec{Rules: []RuleSpec{
		{Name: "eng-admins", CEL: `claims.department == "eng" && "admins" in claims.groups`, Role: roleAdmin},
		{Name: "senior", Match: []Condition{{Claim: "email", Op: "exists"}}, CEL: `claims.level >= 3`, Role: roleDev},
		{Name: "guarded", CEL: `has(claims.tier) && claims.tier == "gold"`, Role: roleRead},
	}}
	big := make([]any, 1000)
	for i := range big {
		big[i] = "g"
	}
	tests := []struct {
		name   string
		claims map[string]any
		want   []string
	}{
		{"matches", map[string]any{"department": "eng", "groups": []any{"dev", "admins"}}, []string{roleAdmin}},
		{"string list", map[string]any{"department": "eng", "groups": []string{"admins"}}, []string{roleAdmin}},
		{"false", map[string]any{"department": "sales", "groups": []any{"admins"}}, nil},
		{"missing key is no match", map[string]any{"groups": []any{"admins"}}, nil},
		{"type error is no match", map[string]any{"department": "eng", "groups": "admins-string"}, []string(nil)},
		{"float vs int literal", map[string]any{"email": "a@b", "level": 3.0}, []string{roleDev}},
		{"int claim", map[string]any{"email": "a@b", "level": 5}, []string{roleDev}},
		{"conditions still apply", map[string]any{"level": 5.0}, nil},
		{"has guard", map[string]any{"tier": "gold"}, []string{roleRead}},
		{"has guard absent", map[string]any{}, nil},
		{"nil claims", nil, nil},
		{"non-string keys nested", map[string]any{"department": map[string]any{"x": 1}, "groups": big}, nil},
	}
	m := mustCompile(t, spec)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := grantRoles(m.Evaluate(tt.claims))
			if len(got) == 0 {
				got = nil
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("roles = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCELCostLimit(t *testing.T) {
	m := mustCompile(t, Spec{Rules: []RuleSpec{{
		Name: "quadratic", Role: roleAdmin,
		CEL: `claims.groups.all(a, claims.groups.all(b, a == b || a != b))`,
	}}})
	small := map[string]any{"groups": []any{"a", "b"}}
	if m.Evaluate(small).Denied() {
		t.Fatal("cheap evaluation should match")
	}
	big := make([]any, 2000)
	for i := range big {
		big[i] = "g"
	}
	d, steps := m.Explain(map[string]any{"groups": big})
	if !d.Denied() {
		t.Error("expression over the cost limit matched")
	}
	if !strings.Contains(steps[0].Detail, "cost limit") {
		t.Errorf("detail = %q, want a cost limit error", steps[0].Detail)
	}
}

func TestExplain(t *testing.T) {
	m := mustCompile(t, Spec{
		RolesClaim: "cognito:roles",
		NoMatch:    DefaultRole, DefaultRole: roleAuth,
		Rules: []RuleSpec{
			{Name: "admins", Match: []Condition{
				{Claim: "email", Op: "ends_with", Value: "@example.com"},
				{Claim: "groups", Op: "equals", Value: "admins"},
			}, Role: roleAdmin},
			{Name: "not-ops", Match: []Condition{{Claim: "groups", Op: "not_equals", Value: "ops"}}, CEL: `claims.dept == "eng"`, Role: roleDev},
			{Name: "anyone", Role: roleRead},
		},
	})
	tests := []struct {
		name   string
		claims map[string]any
		want   []Step
	}{
		{
			name:   "second rule matches",
			claims: map[string]any{"email": "ada@example.com", "groups": []any{"dev", "qa"}, "dept": "eng"},
			want: []Step{
				{Index: -1, Rule: "token:cognito:roles", Detail: `claim "cognito:roles" absent; using rules`},
				{Index: 0, Rule: "admins", Detail: `email="ada@example.com" ends_with "@example.com"; groups: no element equals "admins"`},
				{Index: 1, Rule: "not-ops", Matched: true, Detail: `groups: no element equals "ops"; cel = true`},
			},
		},
		{
			name:   "list element decides",
			claims: map[string]any{"email": "ada@example.com", "groups": []any{"dev", "admins"}},
			want: []Step{
				{Index: -1, Rule: "token:cognito:roles", Detail: `claim "cognito:roles" absent; using rules`},
				{Index: 0, Rule: "admins", Matched: true, Detail: `email="ada@example.com" ends_with "@example.com"; groups[1]="admins" equals "admins"`},
			},
		},
		{
			name:   "absent and failures",
			claims: map[string]any{"email": "bob@evil.com", "groups": []any{"ops"}},
			want: []Step{
				{Index: -1, Rule: "token:cognito:roles", Detail: `claim "cognito:roles" absent; using rules`},
				{Index: 0, Rule: "admins", Detail: `email="bob@evil.com" fails ends_with "@example.com"`},
				{Index: 1, Rule: "not-ops", Detail: `groups[0]="ops" fails not_equals "ops"`},
				{Index: 2, Rule: "anyone", Matched: true, Detail: "no conditions: matches everyone"},
			},
		},
		{
			name:   "cel error",
			claims: map[string]any{"groups": []any{"dev"}},
			want: []Step{
				{Index: -1, Rule: "token:cognito:roles", Detail: `claim "cognito:roles" absent; using rules`},
				{Index: 0, Rule: "admins", Detail: `claim "email" absent`},
				{Index: 1, Rule: "not-ops", Detail: `groups: no element equals "ops"; cel error: no such key: dept`},
				{Index: 2, Rule: "anyone", Matched: true, Detail: "no conditions: matches everyone"},
			},
		},
		{
			name:   "token roles",
			claims: map[string]any{"cognito:roles": []any{roleDev, "junk"}},
			want: []Step{
				{Index: -1, Rule: "token:cognito:roles", Matched: true, Detail: `1 role(s) from claim "cognito:roles", 1 invalid value(s) dropped`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, steps := m.Explain(tt.claims)
			if !reflect.DeepEqual(steps, tt.want) {
				t.Errorf("steps:\n got %+v\nwant %+v", steps, tt.want)
			}
		})
	}

	deny := mustCompile(t, Spec{Rules: []RuleSpec{{Name: "r", Match: []Condition{{Claim: "n", Op: "any_of", Values: []string{"1", "2", "3", "4", "5", "6"}}}, Role: roleAdmin}}})
	_, steps := deny.Explain(map[string]any{"n": 7.0})
	want := []Step{
		{Index: 0, Rule: "r", Detail: `n="7" fails any_of ["1", "2", "3", "4", "5", ... 1 more]`},
		{Index: -1, Rule: "none", Detail: "no rule matched; denied"},
	}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("steps:\n got %+v\nwant %+v", steps, want)
	}
	_, steps = deny.Explain(map[string]any{"n": map[string]any{}})
	if got := steps[0].Detail; got != `claim "n" is not a string, number, bool or list` {
		t.Errorf("map claim detail = %q", got)
	}
}

func TestManyRolesAllMatches(t *testing.T) {
	// More distinct roles than the de-duplication bit mask holds.
	var spec Spec
	spec.Resolution = AllMatches
	for i := range 70 {
		role := fmt.Sprintf("%s-%d", roleAdmin, i%65)
		spec.Rules = append(spec.Rules, RuleSpec{Role: role}, RuleSpec{Role: role})
	}
	m := mustCompile(t, spec)
	d := m.Evaluate(nil)
	if len(d.Grants) != 65 {
		t.Errorf("got %d grants, want 65 distinct roles", len(d.Grants))
	}
	if d.Grants[0].Rule != "rules[0]" || d.Grants[1].Rule != "rules[2]" {
		t.Errorf("unnamed rules should be named by position, got %q, %q", d.Grants[0].Rule, d.Grants[1].Rule)
	}
}
