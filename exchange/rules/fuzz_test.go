package rules

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzCompile feeds random rule specs to Compile: they must compile or
// return problems, never panic, and a compiled mapping must evaluate
// fuzzed claims without panicking, Explain agreeing with Evaluate.
func FuzzCompile(f *testing.F) {
	f.Add("email", "equals", "a@b", "", roleAdmin, "first_match", "", `{"email":"a@b"}`)
	f.Add("groups", "glob", "adm*", `"admins" in claims.groups`, roleDev, "all_matches", "roles", `{"groups":["admins"],"roles":["x"]}`)
	f.Add(`"https://x".t`, "regex", "(a|b)+", `claims.x.y > 2`, roleRead, "", "", `{"https://x":{"t":"ab"},"x":{"y":3}}`)
	f.Add("n", "any_of", "", `size(claims) == 1`, "bad", "x", "r", `{"n":1.5,"r":"arn:aws:iam::123456789012:role/z"}`)
	f.Fuzz(func(t *testing.T, claim, op, value, expr, role, resolution, rolesClaim, claimsJSON string) {
		spec := Spec{
			Resolution:    resolution,
			RolesClaim:    rolesClaim,
			NoMatch:       DefaultRole,
			DefaultRole:   roleAuth,
			PrincipalTags: map[string]string{"t": claim},
			Rules: []RuleSpec{
				{Name: "fuzzed", Match: []Condition{{Claim: claim, Op: op, Value: value, Values: []string{value}}}, CEL: expr, Role: role},
				{Name: "cel-only", CEL: expr, Role: roleDev},
				{Name: "values", Match: []Condition{{Claim: claim, Op: "any_of", Values: []string{value, value + "x"}}}, Role: roleRead},
			},
		}
		m, probs := Compile(spec)
		if (m == nil) == (len(probs) == 0) {
			t.Fatalf("Mapping nil = %v with %d problems", m == nil, len(probs))
		}
		for _, p := range probs {
			if p.Path == "" || p.Message == "" {
				t.Fatalf("problem without path or message: %+v", p)
			}
		}
		if m == nil {
			return
		}
		var claims map[string]any
		_ = json.Unmarshal([]byte(claimsJSON), &claims)
		d := m.Evaluate(claims)
		explained, steps := m.Explain(claims)
		if !reflect.DeepEqual(d, explained) {
			t.Fatalf("Explain decided %+v, Evaluate %+v", explained, d)
		}
		if len(steps) == 0 {
			t.Fatal("Explain gave no steps")
		}
		if len(d.Grants) > 0 {
			_, _, _ = m.PrincipalTags(claims, d.Grants[0])
		}
	})
}
