package rules

import (
	"fmt"
	"testing"
)

// benchSpec builds n rules over a mix of operators where only the last
// rule matches: the worst case for first_match.
func benchSpec(n int) Spec {
	spec := Spec{Rules: make([]RuleSpec, 0, n)}
	for i := range n - 1 {
		var c Condition
		switch i % 8 {
		case 0:
			c = Condition{Claim: "email", Op: "equals", Value: fmt.Sprintf("user%d@example.com", i)}
		case 1:
			c = Condition{Claim: "groups", Op: "equals", Value: fmt.Sprintf("group-%d", i)}
		case 2:
			c = Condition{Claim: "org.dept", Op: "starts_with", Value: fmt.Sprintf("dept%d", i)}
		case 3:
			c = Condition{Claim: "email", Op: "ends_with", Value: fmt.Sprintf("@corp%d.example", i)}
		case 4:
			c = Condition{Claim: "groups", Op: "glob", Value: fmt.Sprintf("team-%d-*", i)}
		case 5:
			c = Condition{Claim: "email", Op: "regex", Value: fmt.Sprintf(`user%d@.*`, i)}
		case 6:
			c = Condition{Claim: "groups", Op: "any_of", Values: []string{fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)}}
		case 7:
			c = Condition{Claim: "missing.claim", Op: "exists"}
		}
		spec.Rules = append(spec.Rules, RuleSpec{
			Name:  fmt.Sprintf("rule-%d", i),
			Match: []Condition{{Claim: "email", Op: "contains", Value: "@"}, c},
			Role:  fmt.Sprintf("arn:aws:iam::123456789012:role/r%d", i),
		})
	}
	spec.Rules = append(spec.Rules, RuleSpec{
		Name: "last",
		Match: []Condition{
			{Claim: "groups", Op: "equals", Value: "admins"},
			{Claim: "org.dept", Op: "equals", Value: "eng"},
		},
		Role: roleAdmin,
	})
	return spec
}

func BenchmarkEvaluate(b *testing.B) {
	claims := map[string]any{
		"email":  "ada@example.com",
		"groups": []any{"dev", "qa", "ops", "admins"},
		"org":    map[string]any{"dept": "eng"},
	}
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			m := mustCompile(b, benchSpec(n))
			if d := m.Evaluate(claims); len(d.Grants) != 1 || d.Grants[0].Rule != "last" {
				b.Fatalf("decision %+v, want the last rule", d)
			}
			b.ReportAllocs()
			for b.Loop() {
				m.Evaluate(claims)
			}
		})
	}
}
