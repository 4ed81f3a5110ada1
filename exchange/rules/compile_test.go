package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const (
	roleAdmin = "arn:aws:iam::123456789012:role/admin"
	roleDev   = "arn:aws:iam::123456789012:role/dev"
	roleRead  = "arn:aws:iam::123456789012:role/teams/readonly"
	roleAuth  = "arn:aws:iam::123456789012:role/authenticated"
	samlIdP   = "arn:aws:iam::123456789012:saml-provider/corp"
)

func assertPaths(t *testing.T, probs []Problem, want []string) {
	t.Helper()
	got := make([]string, len(probs))
	for i, p := range probs {
		got[i] = p.Path
		if p.Message == "" {
			t.Errorf("problem at %s has no message", p.Path)
		}
	}
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("problem paths = %q, want %q\nproblems: %v", got, want, probs)
	}
}

func mustCompile(t testing.TB, spec Spec) *Mapping {
	t.Helper()
	m, probs := Compile(spec)
	if len(probs) > 0 {
		t.Fatalf("Compile: %v", probs)
	}
	return m
}

func TestCompileReportsEveryProblem(t *testing.T) {
	spec := Spec{
		Resolution: "best_match",
		NoMatch:    "default_role",
		RolesClaim: "a..b",
		PrincipalTags: map[string]string{
			"team":     "org.team",
			"aws:evil": "x",
			"bad":      "",
		},
		TransitiveTagKeys: []string{"team", "unknown"},
		Rules: []RuleSpec{
			{Name: "ok", Match: []Condition{{Claim: "email", Op: "exists"}}, Role: roleAdmin},
			{
				Name: "broken",
				Match: []Condition{
					{Claim: "email", Op: "like", Value: "x"},
					{Claim: "", Op: "equals"},
					{Claim: "g", Op: "regex", Value: "("},
					{Claim: "g", Op: "glob", Value: "[x"},
				},
				CEL:             `claims.department`,
				Role:            "arn:aws:iam::12345:role/x",
				SessionPolicy:   `["not an object"]`,
				DurationSeconds: 60,
				Tags:            map[string]string{"Team": "dup", "ok": strings.Repeat("v", 257)},
			},
			{Name: "ok", CEL: `claims.x ==`},
		},
	}
	m, probs := Compile(spec)
	if m != nil {
		t.Error("Compile returned a Mapping despite problems")
	}
	assertPaths(t, probs, []string{
		"resolution",
		"default_role",
		"roles_claim",
		"principal_tags.aws:evil",
		"principal_tags.bad",
		"transitive_tag_keys[1]",
		"rules[1].match[0].op",
		"rules[1].match[1].claim",
		"rules[1].match[1].value",
		"rules[1].match[2].value",
		"rules[1].match[3].value",
		"rules[1].cel",
		"rules[1].role",
		"rules[1].session_policy",
		"rules[1].duration_seconds",
		"rules[1].tags.Team",
		"rules[1].tags.ok",
		"rules[2].name",
		"rules[2].cel",
		"rules[2].role",
	})
}

func TestCompileProblems(t *testing.T) {
	rule := func(mod func(*RuleSpec)) Spec {
		r := RuleSpec{Name: "r", Match: []Condition{{Claim: "email", Op: "exists"}}, Role: roleAdmin}
		mod(&r)
		return Spec{Rules: []RuleSpec{r}}
	}
	manyTags := func(n int, prefix string) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("%s%d", prefix, i)] = "claim"
		}
		return m
	}
	tests := []struct {
		name  string
		spec  Spec
		paths []string
	}{
		{"empty spec", Spec{}, nil},
		{"valid", rule(func(*RuleSpec) {}), nil},
		{"catch-all rule", rule(func(r *RuleSpec) { r.Match = nil }), nil},
		{"no role", rule(func(r *RuleSpec) { r.Role = "" }), []string{"rules[0].role"}},
		{"user not role", rule(func(r *RuleSpec) { r.Role = "arn:aws:iam::123456789012:user/ada" }), []string{"rules[0].role"}},
		{"duration low", rule(func(r *RuleSpec) { r.DurationSeconds = 899 }), []string{"rules[0].duration_seconds"}},
		{"duration high", rule(func(r *RuleSpec) { r.DurationSeconds = 43201 }), []string{"rules[0].duration_seconds"}},
		{"duration negative", rule(func(r *RuleSpec) { r.DurationSeconds = -1 }), []string{"rules[0].duration_seconds"}},
		{"duration bounds", rule(func(r *RuleSpec) { r.DurationSeconds = 43200 }), nil},
		{"policy not JSON", rule(func(r *RuleSpec) { r.SessionPolicy = `{"Version":` }), []string{"rules[0].session_policy"}},
		{"policy too big", rule(func(r *RuleSpec) {
			r.SessionPolicy = `{"Sid":"` + strings.Repeat("x", MaxSessionPolicy) + `"}`
		}), []string{"rules[0].session_policy"}},
		{"policy big but compacts", rule(func(r *RuleSpec) {
			r.SessionPolicy = `{"Version": "2012-10-17"` + strings.Repeat(" ", 3000) + `}`
		}), nil},
		{"cel not bool", rule(func(r *RuleSpec) { r.CEL = `claims.email + "x"` }), []string{"rules[0].cel"}},
		{"cel dyn", rule(func(r *RuleSpec) { r.CEL = `claims.admin` }), []string{"rules[0].cel"}},
		{"cel unknown variable", rule(func(r *RuleSpec) { r.CEL = `user.admin == true` }), []string{"rules[0].cel"}},
		{"cel too long", rule(func(r *RuleSpec) { r.CEL = "true" + strings.Repeat(" && true", maxCELLen/8) }), []string{"rules[0].cel"}},
		{"cel ok", rule(func(r *RuleSpec) { r.CEL = `claims.department == "eng" && "admins" in claims.groups` }), nil},
		{"rule tag bad key", rule(func(r *RuleSpec) { r.Tags = map[string]string{"bad key!": "v"} }), []string{"rules[0].tags.bad key!"}},
		{"rule tag case dup", rule(func(r *RuleSpec) { r.Tags = map[string]string{"Env": "a", "env": "b"} }), []string{"rules[0].tags.env"}},
		{"too many tags together", Spec{
			PrincipalTags: manyTags(30, "p"),
			Rules:         []RuleSpec{{Role: roleAdmin, Tags: manyTags(21, "r")}},
		}, []string{"rules[0].tags"}},
		{"fifty tags together", Spec{
			PrincipalTags: manyTags(30, "p"),
			Rules:         []RuleSpec{{Role: roleAdmin, Tags: manyTags(20, "r")}},
		}, nil},
		{"too many principal tags", Spec{PrincipalTags: manyTags(51, "p")}, []string{"principal_tags"}},
		{"principal tag case dup", Spec{PrincipalTags: map[string]string{"Team": "a", "team": "b"}}, []string{"principal_tags.team"}},
		{"transitive from rule tags", Spec{
			TransitiveTagKeys: []string{"env"},
			Rules:             []RuleSpec{{Role: roleAdmin, Tags: map[string]string{"env": "prod"}}},
		}, nil},
		{"default_role needs role", Spec{NoMatch: "default_role"}, []string{"default_role"}},
		{"bad default role", Spec{NoMatch: "default_role", DefaultRole: "admin"}, []string{"default_role"}},
		{"unknown no_match", Spec{NoMatch: "allow"}, []string{"no_match"}},
		{"bad preferred claim", Spec{PreferredRoleClaim: `"x`}, []string{"preferred_role_claim"}},
		{"too many rules", Spec{Rules: make([]RuleSpec, MaxRules+1)}, []string{"rules"}},
		{"too many conditions", rule(func(r *RuleSpec) {
			r.Match = make([]Condition, maxConditions+1)
		}), []string{"rules[0].match"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, probs := Compile(tt.spec)
			assertPaths(t, probs, tt.paths)
			if (m == nil) != (len(tt.paths) > 0) {
				t.Errorf("Mapping nil = %v with %d problems", m == nil, len(probs))
			}
		})
	}
}

func TestCompactsSessionPolicy(t *testing.T) {
	m := mustCompile(t, Spec{Rules: []RuleSpec{{
		Role:          roleAdmin,
		SessionPolicy: "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": []\n}",
	}}})
	got := m.Evaluate(nil).Grants[0].SessionPolicy
	if want := `{"Version":"2012-10-17","Statement":[]}`; got != want {
		t.Errorf("SessionPolicy = %q, want %q", got, want)
	}
}

func TestValidateTag(t *testing.T) {
	tests := []struct {
		name, key, value string
		want             error
	}{
		{"ok", "team", "platform", nil},
		{"unicode letters and spaces", "Équipe", "plate forme 1", nil},
		{"all punctuation allowed", "a_.:/=+-@", "v_.:/=+-@", nil},
		{"empty value", "team", "", nil},
		{"key max", strings.Repeat("k", 128), "v", nil},
		{"value max in runes", "k", strings.Repeat("é", 256), nil},
		{"empty key", "", "v", ErrTagKey},
		{"key too long", strings.Repeat("k", 129), "v", ErrTagKey},
		{"key bad char", "team!", "v", ErrTagKey},
		{"aws prefix", "aws:team", "v", ErrTagKey},
		{"AWS prefix", "AWS:team", "v", ErrTagKey},
		{"value too long", "k", strings.Repeat("v", 257), ErrTagValue},
		{"value bad char", "k", "secret,value", ErrTagValue},
		{"value invalid utf8", "k", "\xff", ErrTagValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTag(tt.key, tt.value)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ValidateTag = %v, want %v", err, tt.want)
			}
			var te *TagError
			if err != nil && (!errors.As(err, &te) || te.Public() == "" || len(tt.value) > 3 && strings.Contains(te.Public(), tt.value)) {
				t.Errorf("want a *TagError whose public message omits the value, got %#v", err)
			}
		})
	}
}
