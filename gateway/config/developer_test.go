package config

import (
	"errors"
	"strings"
	"testing"
)

// developer_provider_name follows Cognito's rule (1-100 characters of
// [\w._-]); a pool with one needs no other provider, and a mode that
// forwards the upstream credential cannot take it.
func TestDeveloperProviderName(t *testing.T) {
	const at = "pools[0].developer_provider_name"
	tests := []struct {
		name, to, problem string
	}{
		{name: "dotted name", to: "    providers: [corp]\n    developer_provider_name: login.example.app\n"},
		{name: "100 characters", to: "    providers: [corp]\n    developer_provider_name: " + strings.Repeat("a", 100) + "\n"},
		{name: "only a developer provider", to: "    providers: []\n    developer_provider_name: login.example.app\n"},
		{name: "101 characters", to: "    providers: [corp]\n    developer_provider_name: " + strings.Repeat("a", 101) + "\n", problem: at},
		{name: "a space", to: "    providers: [corp]\n    developer_provider_name: login example\n", problem: at},
		{name: "a slash", to: "    providers: [corp]\n    developer_provider_name: login/example\n", problem: at},
		{name: "no provider at all", to: "    providers: []\n", problem: "pools[0].providers"},
		{name: "upstream-token mode", to: "    providers: [corp]\n    mode: upstream-token\n    developer_provider_name: login.example.app\n", problem: at},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(validConfig, "    providers: [corp]\n", tt.to, 1)
			if tt.name == "upstream-token mode" {
				doc = strings.Replace(doc, "    principal_tags: {department: department}\n", "", 1)
			}
			f, err := Parse([]byte(doc), envOf(map[string]string{"MASTER": "k", "SECRET": "s"}))
			if tt.problem == "" {
				if err != nil {
					t.Fatal(err)
				}
				if f.Pools[0].DeveloperProviderName == "" {
					t.Error("developer_provider_name not read")
				}
				return
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			for _, p := range ps {
				if p.Path == tt.problem {
					return
				}
			}
			t.Fatalf("no problem at %s; got %v", tt.problem, ps)
		})
	}
}
