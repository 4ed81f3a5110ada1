package rules

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestPrincipalTags(t *testing.T) {
	m := mustCompile(t, Spec{
		PrincipalTags: map[string]string{
			"team":  "org.team",
			"dept":  "dept",
			"level": "level",
			"group": "groups",
			"email": "email",
		},
		TransitiveTagKeys: []string{"team", "env", "email"},
		Rules:             []RuleSpec{{Name: "r", Role: roleAdmin, Tags: map[string]string{"env": "prod"}}},
	})
	grant := m.Evaluate(nil).Grants[0]
	tests := []struct {
		name           string
		claims         map[string]any
		grant          Grant
		wantTags       map[string]string
		wantTransitive []string
		wantErr        error
	}{
		{
			name:           "values from claims plus rule tags",
			claims:         map[string]any{"org": map[string]any{"team": "core"}, "dept": "eng", "level": 3.0, "groups": []any{"admins"}},
			grant:          grant,
			wantTags:       map[string]string{"team": "core", "dept": "eng", "level": "3", "group": "admins", "env": "prod"},
			wantTransitive: []string{"team", "env"},
		},
		{
			name:           "missing claims are omitted",
			claims:         map[string]any{"groups": []any{}, "dept": nil},
			grant:          grant,
			wantTags:       map[string]string{"env": "prod"},
			wantTransitive: []string{"env"},
		},
		{
			name:     "grant tags win",
			claims:   map[string]any{"dept": "eng"},
			grant:    Grant{Role: roleAdmin, Tags: map[string]string{"dept": "fixed"}},
			wantTags: map[string]string{"dept": "fixed"},
		},
		{
			name:    "multi-valued list refused",
			claims:  map[string]any{"groups": []any{"a", "b"}},
			grant:   grant,
			wantErr: ErrTagMultiValued,
		},
		{
			name:    "map refused",
			claims:  map[string]any{"dept": map[string]any{"x": "y"}},
			grant:   grant,
			wantErr: ErrTagNotScalar,
		},
		{
			name:    "list of a map refused",
			claims:  map[string]any{"groups": []any{map[string]any{}}},
			grant:   grant,
			wantErr: ErrTagNotScalar,
		},
		{
			name:    "value too long",
			claims:  map[string]any{"dept": strings.Repeat("d", 257)},
			grant:   grant,
			wantErr: ErrTagValue,
		},
		{
			name:    "bad characters",
			claims:  map[string]any{"email": "a,b@example.com"},
			grant:   grant,
			wantErr: ErrTagValue,
		},
		{
			name:    "case-insensitive clash with grant tags",
			claims:  map[string]any{"dept": "eng"},
			grant:   Grant{Role: roleAdmin, Tags: map[string]string{"Dept": "x"}},
			wantErr: ErrTagKey,
		},
		{
			name:    "too many with grant tags",
			claims:  map[string]any{"dept": "eng"},
			grant:   Grant{Role: roleAdmin, Tags: numberedTags(50)},
			wantErr: ErrTooManyTags,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags, transitive, err := m.PrincipalTags(tt.claims, tt.grant)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				var te *TagError
				if !errors.As(err, &te) || te.Public() == "" {
					t.Errorf("want a *TagError with a public message, got %v", err)
				}
				return
			}
			if !reflect.DeepEqual(tags, tt.wantTags) {
				t.Errorf("tags = %v, want %v", tags, tt.wantTags)
			}
			if !slices.Equal(transitive, tt.wantTransitive) {
				t.Errorf("transitive = %q, want %q", transitive, tt.wantTransitive)
			}
		})
	}
}

func numberedTags(n int) map[string]string {
	tags := make(map[string]string, n)
	for i := range n {
		tags[fmt.Sprintf("t%d", i)] = "v"
	}
	return tags
}

func TestTagErrorKeepsValueOutOfMessages(t *testing.T) {
	m := mustCompile(t, Spec{PrincipalTags: map[string]string{"dept": "dept"}})
	secret := "hunter2," + strings.Repeat("x", 10)
	_, _, err := m.PrincipalTags(map[string]any{"dept": secret}, Grant{})
	var te *TagError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TagError", err)
	}
	if strings.Contains(te.Error(), "hunter2") || strings.Contains(te.Public(), "hunter2") {
		t.Errorf("error leaks the claim value: %q / %q", te.Error(), te.Public())
	}
	if !strings.Contains(te.Public(), `"dept"`) {
		t.Errorf("public message %q should name the tag", te.Public())
	}
}
