package rules

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func testClaims() map[string]any {
	return map[string]any{
		"email":                      "ada@example.com",
		"path":                       "a/b/c",
		"groups":                     []any{"dev", "admins"},
		"teams":                      []string{"red", "blue"},
		"level":                      float64(3),
		"ratio":                      1.5,
		"age":                        42,
		"num":                        json.Number("42.0"),
		"verified":                   true,
		"org":                        map[string]any{"dept": "eng", "unit": map[string]any{"name": "core"}},
		"saml":                       map[string][]string{"dept": {"eng"}},
		"empty":                      []any{},
		"nothing":                    nil,
		"mixed":                      []any{map[string]any{"x": 1}, 7.0},
		"https://example.com/claims": map[string]any{"team": "platform"},
	}
}

func TestConditions(t *testing.T) {
	many := []string{"a", "b", "c", "d", "e", "f", "g", "h", "ada@example.com"}
	tests := []struct {
		name string
		cond Condition
		want bool
	}{
		{"equals", Condition{Claim: "email", Op: "equals", Value: "ada@example.com"}, true},
		{"equals other", Condition{Claim: "email", Op: "equals", Value: "bob@example.com"}, false},
		{"equals is case-sensitive", Condition{Claim: "email", Op: "equals", Value: "ADA@example.com"}, false},
		{"equals absent", Condition{Claim: "dept", Op: "equals", Value: "eng"}, false},
		{"not_equals", Condition{Claim: "email", Op: "not_equals", Value: "bob@example.com"}, true},
		{"not_equals same", Condition{Claim: "email", Op: "not_equals", Value: "ada@example.com"}, false},
		{"not_equals absent fails", Condition{Claim: "dept", Op: "not_equals", Value: "eng"}, false},
		{"not_equals empty list fails", Condition{Claim: "empty", Op: "not_equals", Value: "x"}, false},
		{"not_equals list none equal", Condition{Claim: "groups", Op: "not_equals", Value: "ops"}, true},
		{"not_equals list one equals", Condition{Claim: "groups", Op: "not_equals", Value: "admins"}, false},
		{"contains", Condition{Claim: "email", Op: "contains", Value: "@example"}, true},
		{"contains not", Condition{Claim: "email", Op: "contains", Value: "@evil"}, false},
		{"starts_with", Condition{Claim: "email", Op: "starts_with", Value: "ada@"}, true},
		{"starts_with not", Condition{Claim: "email", Op: "starts_with", Value: "bob"}, false},
		{"ends_with", Condition{Claim: "email", Op: "ends_with", Value: "@example.com"}, true},
		{"ends_with not", Condition{Claim: "email", Op: "ends_with", Value: "@example.com.evil"}, false},
		{"glob star", Condition{Claim: "email", Op: "glob", Value: "*@example.com"}, true},
		{"glob question", Condition{Claim: "email", Op: "glob", Value: "a?a@*"}, true},
		{"glob class", Condition{Claim: "email", Op: "glob", Value: "[a-c]da@*"}, true},
		{"glob negated class", Condition{Claim: "email", Op: "glob", Value: "[!a]da@*"}, false},
		{"glob whole string", Condition{Claim: "email", Op: "glob", Value: "ada"}, false},
		{"glob star crosses slash", Condition{Claim: "path", Op: "glob", Value: "a*c"}, true},
		{"glob dot is literal", Condition{Claim: "email", Op: "glob", Value: "ada@example?com"}, true},
		{"glob escaped star", Condition{Claim: "email", Op: "glob", Value: `ada\*`}, false},
		{"regex", Condition{Claim: "email", Op: "regex", Value: `[a-z]+@example\.com`}, true},
		{"regex is anchored", Condition{Claim: "email", Op: "regex", Value: "ada"}, false},
		{"regex alternation anchored", Condition{Claim: "email", Op: "regex", Value: "x|ada@example.com"}, true},
		{"regex flags", Condition{Claim: "email", Op: "regex", Value: `(?i)ADA@EXAMPLE\.COM`}, true},
		{"exists", Condition{Claim: "email", Op: "exists"}, true},
		{"exists absent", Condition{Claim: "dept", Op: "exists"}, false},
		{"exists null", Condition{Claim: "nothing", Op: "exists"}, false},
		{"exists empty list", Condition{Claim: "empty", Op: "exists"}, false},
		{"exists nested map", Condition{Claim: "org", Op: "exists"}, true},
		{"any_of", Condition{Claim: "email", Op: "any_of", Values: []string{"x", "ada@example.com"}}, true},
		{"any_of none", Condition{Claim: "email", Op: "any_of", Values: []string{"x", "y"}}, false},
		{"any_of set", Condition{Claim: "email", Op: "any_of", Values: many}, true},
		{"any_of set none", Condition{Claim: "email", Op: "any_of", Values: many[:8]}, false},
		{"any_of list", Condition{Claim: "groups", Op: "any_of", Values: []string{"ops", "admins"}}, true},
		{"list any element", Condition{Claim: "groups", Op: "equals", Value: "admins"}, true},
		{"list no element", Condition{Claim: "groups", Op: "equals", Value: "ops"}, false},
		{"string list", Condition{Claim: "teams", Op: "starts_with", Value: "bl"}, true},
		{"float as integer", Condition{Claim: "level", Op: "equals", Value: "3"}, true},
		{"float not 3.0", Condition{Claim: "level", Op: "equals", Value: "3.0"}, false},
		{"float fraction", Condition{Claim: "ratio", Op: "equals", Value: "1.5"}, true},
		{"int", Condition{Claim: "age", Op: "equals", Value: "42"}, true},
		{"json.Number canonical", Condition{Claim: "num", Op: "equals", Value: "42"}, true},
		{"bool", Condition{Claim: "verified", Op: "equals", Value: "true"}, true},
		{"bool false", Condition{Claim: "verified", Op: "equals", Value: "false"}, false},
		{"nested", Condition{Claim: "org.dept", Op: "equals", Value: "eng"}, true},
		{"deeply nested", Condition{Claim: "org.unit.name", Op: "equals", Value: "core"}, true},
		{"quoted key", Condition{Claim: `"https://example.com/claims".team`, Op: "equals", Value: "platform"}, true},
		{"saml attribute map", Condition{Claim: "saml.dept", Op: "equals", Value: "eng"}, true},
		{"list skips maps", Condition{Claim: "mixed", Op: "equals", Value: "7"}, true},
		{"map is not a scalar", Condition{Claim: "org", Op: "equals", Value: "eng"}, false},
		{"map not_equals fails", Condition{Claim: "org", Op: "not_equals", Value: "eng"}, false},
		{"through a string", Condition{Claim: "email.sub", Op: "exists"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var probs problems
			c := compileCondition(tt.cond, "c", &probs)
			if len(probs) > 0 {
				t.Fatalf("problems: %v", probs)
			}
			if got := c.evaluate(testClaims()).held; got != tt.want {
				t.Errorf("held = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConditionProblems(t *testing.T) {
	tests := []struct {
		name  string
		cond  Condition
		paths []string
	}{
		{"ok", Condition{Claim: "a", Op: "equals", Value: "x"}, nil},
		{"empty claim", Condition{Op: "equals", Value: "x"}, []string{"c.claim"}},
		{"bad claim", Condition{Claim: "a..b", Op: "equals", Value: "x"}, []string{"c.claim"}},
		{"no op", Condition{Claim: "a", Value: "x"}, []string{"c.op"}},
		{"unknown op", Condition{Claim: "a", Op: "like", Value: "x"}, []string{"c.op"}},
		{"missing value", Condition{Claim: "a", Op: "contains"}, []string{"c.value"}},
		{"exists with value", Condition{Claim: "a", Op: "exists", Value: "x"}, []string{"c.value"}},
		{"values on equals", Condition{Claim: "a", Op: "equals", Value: "x", Values: []string{"y"}}, []string{"c.values"}},
		{"any_of empty", Condition{Claim: "a", Op: "any_of"}, []string{"c.values"}},
		{"any_of with value", Condition{Claim: "a", Op: "any_of", Value: "x", Values: []string{"y"}}, []string{"c.value"}},
		{"bad regex", Condition{Claim: "a", Op: "regex", Value: "(unclosed"}, []string{"c.value"}},
		{"bad glob class", Condition{Claim: "a", Op: "glob", Value: "[abc"}, []string{"c.value"}},
		{"empty glob class", Condition{Claim: "a", Op: "glob", Value: "[]"}, []string{"c.value"}},
		{"bad glob range", Condition{Claim: "a", Op: "glob", Value: "[z-a]"}, []string{"c.value"}},
		{"trailing backslash", Condition{Claim: "a", Op: "glob", Value: `ab\`}, []string{"c.value"}},
		{"huge pattern", Condition{Claim: "a", Op: "regex", Value: strings.Repeat("a", maxPatternLen+1)}, []string{"c.value"}},
		{"everything wrong", Condition{Op: "regex", Value: "(", Values: []string{"x"}}, []string{"c.claim", "c.values", "c.value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var probs problems
			compileCondition(tt.cond, "c", &probs)
			assertPaths(t, probs, tt.paths)
		})
	}
}

func TestGlobToRegexp(t *testing.T) {
	tests := []struct {
		glob    string
		match   []string
		noMatch []string
		wantErr bool
	}{
		{glob: "*", match: []string{"", "anything/at all"}},
		{glob: "a*", match: []string{"a", "abc"}, noMatch: []string{"ba"}},
		{glob: "?", match: []string{"é", "\n"}, noMatch: []string{"", "ab"}},
		{glob: "[a-c]x", match: []string{"bx"}, noMatch: []string{"dx"}},
		{glob: "[!a-c]x", match: []string{"dx"}, noMatch: []string{"bx"}},
		{glob: "[^a-c]x", match: []string{"dx"}, noMatch: []string{"bx"}},
		{glob: `[\]]`, match: []string{"]"}, noMatch: []string{"a"}},
		{glob: `[a\-z]`, match: []string{"-", "a"}, noMatch: []string{"b"}},
		{glob: "a.b", match: []string{"a.b"}, noMatch: []string{"axb"}},
		{glob: "(x)+", match: []string{"(x)+"}, noMatch: []string{"xx"}},
		{glob: `\?`, match: []string{"?"}, noMatch: []string{"a"}},
		{glob: "[]a]", wantErr: true},
		{glob: "[a", wantErr: true},
		{glob: "[b-a]", wantErr: true},
		{glob: `a\`, wantErr: true},
		{glob: `[a\`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.glob, func(t *testing.T) {
			expr, err := globToRegexp(tt.glob)
			if (err != nil) != tt.wantErr {
				t.Fatalf("globToRegexp(%q) = %q, %v; want error %v", tt.glob, expr, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			re := regexp.MustCompile(expr)
			for _, s := range tt.match {
				if !re.MatchString(s) {
					t.Errorf("%q (%s) does not match %q", tt.glob, expr, s)
				}
			}
			for _, s := range tt.noMatch {
				if re.MatchString(s) {
					t.Errorf("%q (%s) matches %q", tt.glob, expr, s)
				}
			}
		})
	}
}
