package rules

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestParseClaimPath(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr error
	}{
		{in: "email", want: []string{"email"}},
		{in: "org.dept", want: []string{"org", "dept"}},
		{in: "cognito:groups", want: []string{"cognito:groups"}},
		{in: `"https://example.com/claims".team`, want: []string{"https://example.com/claims", "team"}},
		{in: `a."b.c".d`, want: []string{"a", "b.c", "d"}},
		{in: `"say \"hi\"".x`, want: []string{`say "hi"`, "x"}},
		{in: `"back\\slash"`, want: []string{`back\slash`}},
		{in: "", wantErr: ErrEmptyPath},
		{in: ".a", wantErr: ErrEmptySegment},
		{in: "a.", wantErr: ErrEmptySegment},
		{in: "a..b", wantErr: ErrEmptySegment},
		{in: `""`, wantErr: ErrEmptySegment},
		{in: `"unterminated`, wantErr: ErrBadQuote},
		{in: `"a"b`, wantErr: ErrBadQuote},
		{in: `a"b"`, wantErr: ErrBadQuote},
		{in: `"bad\escape"`, wantErr: ErrBadQuote},
		{in: string(make([]byte, maxPathLen+1)), wantErr: ErrPathTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParseClaimPath(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseClaimPath(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err == nil && !slices.Equal(p.Keys(), tt.want) {
				t.Errorf("keys = %q, want %q", p.Keys(), tt.want)
			}
			if err == nil && p.String() != tt.in {
				t.Errorf("String() = %q, want %q", p.String(), tt.in)
			}
		})
	}
}

func TestClaimPathLookup(t *testing.T) {
	claims := map[string]any{
		"email":                      "ada@example.com",
		"org":                        map[string]any{"unit": map[string]any{"name": "core"}},
		"flat":                       map[string]string{"k": "v"},
		"saml":                       map[string][]string{"dept": {"eng"}},
		"null":                       nil,
		"https://example.com/claims": map[string]any{"team": "platform"},
	}
	tests := []struct {
		path   string
		want   any
		wantOK bool
	}{
		{"email", "ada@example.com", true},
		{"org.unit.name", "core", true},
		{"flat.k", "v", true},
		{"saml.dept", []string{"eng"}, true},
		{`"https://example.com/claims".team`, "platform", true},
		{"null", nil, false},
		{"missing", nil, false},
		{"email.sub", nil, false},
		{"org.unit.name.deeper", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := ParseClaimPath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := p.Lookup(claims)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if ok && !jsonEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	if _, ok := (ClaimPath{}).Lookup(claims); ok {
		t.Error("zero ClaimPath resolved a value")
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// FuzzClaimPath checks that parsing never panics, that a parsed path finds
// a value planted under its keys, and that lookups in arbitrary JSON
// claims never panic.
func FuzzClaimPath(f *testing.F) {
	f.Add("email", `{"email":"a"}`)
	f.Add(`"https://x/y".team`, `{"https://x/y":{"team":"t"}}`)
	f.Add(`a."b\"c".d`, `{"a":{"b\"c":{"d":[1,2]}}}`)
	f.Add(`"\\`, `null`)
	f.Fuzz(func(t *testing.T, path, claimsJSON string) {
		p, err := ParseClaimPath(path)
		if err != nil {
			return
		}
		var claims map[string]any
		_ = json.Unmarshal([]byte(claimsJSON), &claims)
		p.Lookup(claims)

		keys := p.Keys()
		var planted any = "planted"
		for i := len(keys) - 1; i >= 0; i-- {
			planted = map[string]any{keys[i]: planted}
		}
		got, ok := p.Lookup(planted.(map[string]any))
		if !ok || got != "planted" {
			t.Fatalf("path %q (keys %q) did not find its planted value: %v %v", path, keys, got, ok)
		}
	})
}
