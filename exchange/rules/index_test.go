package rules

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// The index is only a filter: on any rule set and any claims, Evaluate
// must decide exactly as testing every rule in order does.
func TestIndexedEvaluationEqualsLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const specs, claimSets = 100, 50
	for n := range specs {
		spec := randomSpec(rng, 1+rng.IntN(120))
		m, probs := Compile(spec)
		if len(probs) > 0 {
			t.Fatalf("spec %d: %v", n, probs)
		}
		for range claimSets {
			claims := randomClaims(rng)
			got := m.matchRules(claims, nil)
			want := m.matchRulesLinear(claims)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("spec %d (%s), claims %v:\nindexed %v\nlinear  %v", n, spec.Resolution, claims, ruleNames(got), ruleNames(want))
			}
			// Explain (linear, traced) agrees with Evaluate (indexed).
			d, _ := m.Explain(claims)
			if e := m.Evaluate(claims); !reflect.DeepEqual(d, e) {
				t.Fatalf("spec %d, claims %v: Explain %v, Evaluate %v", n, claims, d, e)
			}
		}
	}
}

func TestIndexTable(t *testing.T) {
	rule := func(name string, c ...Condition) RuleSpec {
		return RuleSpec{Name: name, Match: c, Role: "arn:aws:iam::123456789012:role/" + name}
	}
	tests := []struct {
		name   string
		rules  []RuleSpec
		claims map[string]any
		want   []string
	}{
		{
			name:   "first match keeps rule order across index kinds",
			rules:  []RuleSpec{rule("suffix", Condition{Claim: "email", Op: "ends_with", Value: "@example.com"}), rule("equal", Condition{Claim: "email", Op: "equals", Value: "ada@example.com"})},
			claims: map[string]any{"email": "ada@example.com"},
			want:   []string{"suffix"},
		},
		{
			name:   "prefix table finds every stored prefix of the value",
			rules:  []RuleSpec{rule("long", Condition{Claim: "dept", Op: "starts_with", Value: "eng-platform"}), rule("short", Condition{Claim: "dept", Op: "starts_with", Value: "eng"})},
			claims: map[string]any{"dept": "eng-data"},
			want:   []string{"short"},
		},
		{
			name:   "any_of on a list claim",
			rules:  []RuleSpec{rule("a", Condition{Claim: "groups", Op: "any_of", Values: []string{"x", "y"}}), rule("b", Condition{Claim: "groups", Op: "equals", Value: "z"})},
			claims: map[string]any{"groups": []any{"q", "z", "y"}},
			want:   []string{"a"},
		},
		{
			name:   "numbers compare by their canonical form",
			rules:  []RuleSpec{rule("level", Condition{Claim: "level", Op: "equals", Value: "3"})},
			claims: map[string]any{"level": float64(3)},
			want:   []string{"level"},
		},
		{
			name:   "regex literal prefix narrows but the whole regex decides",
			rules:  []RuleSpec{rule("re", Condition{Claim: "email", Op: "regex", Value: `ada@(corp|lab)\.example`})},
			claims: map[string]any{"email": "ada@home.example"},
		},
		{
			name:   "unanchored alternation in a regex is not filed by prefix",
			rules:  []RuleSpec{rule("alt", Condition{Claim: "email", Op: "regex", Value: `x)|(.*y`})},
			claims: map[string]any{"email": "ady"},
			want:   []string{"alt"},
		},
		{
			name:   "case-insensitive regex is filed by presence",
			rules:  []RuleSpec{rule("ci", Condition{Claim: "email", Op: "regex", Value: `(?i)ADA@.*`})},
			claims: map[string]any{"email": "ada@example.com"},
			want:   []string{"ci"},
		},
		{
			name:   "not_equals holds when no element equals",
			rules:  []RuleSpec{rule("ne", Condition{Claim: "groups", Op: "not_equals", Value: "banned"})},
			claims: map[string]any{"groups": []string{"dev"}},
			want:   []string{"ne"},
		},
		{
			name:   "a rule without conditions is always a candidate",
			rules:  []RuleSpec{rule("x", Condition{Claim: "email", Op: "equals", Value: "nobody"}), {Name: "all", Role: "arn:aws:iam::123456789012:role/all"}},
			claims: map[string]any{},
			want:   []string{"all"},
		},
		{
			name:   "a claim path quoted differently is the same claim",
			rules:  []RuleSpec{rule("q", Condition{Claim: `"org".dept`, Op: "equals", Value: "eng"}), rule("p", Condition{Claim: "org.dept", Op: "starts_with", Value: "en"})},
			claims: map[string]any{"org": map[string]any{"dept": "eng"}},
			want:   []string{"q"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, Spec{Rules: tt.rules})
			got := ruleNames(m.Evaluate(tt.claims).Grants)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Evaluate: %v, want %v", got, tt.want)
			}
			if lin := ruleNames(m.matchRulesLinear(tt.claims)); !reflect.DeepEqual(lin, tt.want) {
				t.Fatalf("linear: %v, want %v", lin, tt.want)
			}
		})
	}
}

func TestAnchoredLiteralPrefix(t *testing.T) {
	tests := map[string]string{
		`^(?:user5@.*)$`:      "user5@",
		`^(?:(ab)c.*)$`:       "ab",
		`^(?:a|ab)$`:          "a",
		`^(?:x)|(?:xy)$`:      "",
		`^(?:(?i)abc)$`:       "",
		`^(?:.*abc)$`:         "",
		`abc`:                 "",
		`^(?:héllo[0-9])$`:    "héllo",
		`^(?:team\-1\-.*)$`:   "team-1-",
		`^(?:[ab]c)$`:         "",
		`^(?:ab+)$`:           "a",
		`^(?:(?m)^ab)$`:       "",
		`^(?:(?s)ab.*)$`:      "ab",
		`^(?:ab(?:cd|ce))$`:   "ab",
		`^(?:(?:ab)?c)$`:      "",
		`^(?:\Qa.b\E.*)$`:     "a.b",
		`^(?:a{2}b)$`:         "a",
		`^(?:invalid(`:        "",
		`^(?:abc)$|^(?:abd)$`: "",
	}
	for expr, want := range tests {
		if got := anchoredLiteralPrefix(expr); got != want {
			t.Errorf("anchoredLiteralPrefix(%q) = %q, want %q", expr, got, want)
		}
	}
}

func ruleNames(gs []Grant) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Rule)
	}
	return out
}

var (
	randWords = []string{"a", "ab", "abc", "b", "ba", "eng", "eng-x", "x-eng", "3", "3.5", "true", "", "é", "éa"}
	randPaths = []string{"email", "groups", "org.dept", `"org".dept`, "n", "flag", "missing"}
	randOps   = []string{"equals", "not_equals", "contains", "starts_with", "ends_with", "glob", "regex", "exists", "any_of"}
)

func randomSpec(rng *rand.Rand, n int) Spec {
	spec := Spec{}
	if rng.IntN(3) == 0 {
		spec.Resolution = AllMatches
	}
	pick := func(l []string) string { return l[rng.IntN(len(l))] }
	word := func() string {
		for {
			if w := pick(randWords); w != "" {
				return w
			}
		}
	}
	for i := range n {
		r := RuleSpec{Name: fmt.Sprintf("r%d", i), Role: fmt.Sprintf("arn:aws:iam::123456789012:role/r%d", rng.IntN(80))}
		for range rng.IntN(4) {
			c := Condition{Claim: pick(randPaths), Op: pick(randOps)}
			switch c.Op {
			case "exists":
			case "any_of":
				for range 1 + rng.IntN(10) {
					c.Values = append(c.Values, word())
				}
			case "glob":
				c.Value = word() + pick([]string{"*", "?", "", "*b"})
			case "regex":
				c.Value = pick([]string{word() + ".*", "(?i)" + word(), ".*" + word(), word() + "|" + word(), "(" + word() + ")b?", word()})
			default:
				c.Value = word()
			}
			r.Match = append(r.Match, c)
		}
		if rng.IntN(40) == 0 {
			r.CEL = `"email" in claims`
		}
		spec.Rules = append(spec.Rules, r)
	}
	return spec
}

func randomClaims(rng *rand.Rand) map[string]any {
	pick := func(l []string) string { return l[rng.IntN(len(l))] }
	value := func() any {
		switch rng.IntN(8) {
		case 0:
			return nil
		case 1:
			return float64(3)
		case 2:
			return 3.5
		case 3:
			return true
		case 4:
			l := make([]any, rng.IntN(4))
			for i := range l {
				l[i] = pick(randWords)
			}
			return l
		case 5:
			l := make([]string, rng.IntN(3))
			for i := range l {
				l[i] = pick(randWords)
			}
			return l
		}
		return pick(randWords) + pick([]string{"", "", "x", "-eng", "b"})
	}
	claims := map[string]any{}
	for _, k := range []string{"email", "groups", "n", "flag"} {
		if rng.IntN(4) > 0 {
			claims[k] = value()
		}
	}
	if rng.IntN(2) == 0 {
		claims["org"] = map[string]any{"dept": value()}
	}
	return claims
}
