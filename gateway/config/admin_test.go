package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const adminToken = "tok-0123456789abcdef0123456789abcdef"

func TestAdminSection(t *testing.T) {
	env := envOf(map[string]string{"MASTER": "k", "SECRET": "s", "ADMIN_TOKEN": adminToken, "SHORT": "short"})
	tests := []struct {
		name     string
		admin    string
		problems []string // path: message fragments, in any order
	}{
		{"no admin section", ``, nil},
		{"sign-in and token", `
admin:
  providers: [corp]
  api_token_env: ADMIN_TOKEN
  rules:
    - {name: owners, match: [{claim: groups, op: equals, value: admins}], role: owner}
    - {cel: '"ops" in claims.groups', role: viewer}`, nil},
		{"unknown provider and role", `
admin:
  providers: [nope]
  rules: [{match: [{claim: groups, op: equals, value: x}], role: god}]`,
			[]string{"admin.providers[0]: unknown provider", "admin.rules[0].role: must be viewer, editor or owner"}},
		{"sign-in without rules", `
admin:
  providers: [corp]`, []string{"admin.rules: admin sign-in is enabled"}},
		{"bad condition", `
admin:
  providers: [corp]
  rules: [{match: [{claim: groups, op: sounds_like, value: x}], role: owner}]`, []string{"admin.rules[0].match[0]"}},
		{"token variable unset", `
admin:
  api_token_env: NOT_SET`, []string{"admin.api_token_env: environment variable NOT_SET is not set"}},
		{"token too short", `
admin:
  api_token_env: SHORT`, []string{"admin.api_token_env: the token in SHORT must be at least 32 characters"}},
		{"bad token role and session ttl", `
admin:
  api_token_env: ADMIN_TOKEN
  api_token_role: root
  session_ttl: 30s`, []string{"admin.api_token_role", "admin.session_ttl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(validConfig+tt.admin), env)
			var ps Problems
			if len(tt.problems) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if !errors.As(err, &ps) {
				t.Fatalf("Parse = %v, %v; want problems", f, err)
			}
			all := ps.Error()
			for _, want := range tt.problems {
				if !strings.Contains(all, want) {
					t.Errorf("problems lack %q:\n%s", want, all)
				}
			}
			if strings.Contains(all, "arn:aws:iam::000000000000") {
				t.Errorf("problems leak the placeholder role ARNs:\n%s", all)
			}
		})
	}
}

// The token is kept only as its hash, and never in the JSON form of the file.
func TestAdminTokenKeptHashed(t *testing.T) {
	f, err := Parse([]byte(validConfig+"\nadmin:\n  api_token_env: ADMIN_TOKEN\n"), envOf(map[string]string{"MASTER": "k", "SECRET": "s", "ADMIN_TOKEN": adminToken}))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(adminToken))
	if f.Admin.APITokenSHA256 != hex.EncodeToString(sum[:]) || f.Admin.APITokenRole != AdminEditor || !f.Admin.Enabled() {
		t.Errorf("admin = %+v", f.Admin)
	}
	b, _ := json.Marshal(f)
	if strings.Contains(string(b), adminToken) || strings.Contains(string(b), f.Admin.APITokenSHA256) {
		t.Errorf("the JSON form of the file carries the token or its hash")
	}
}

func TestAdminRulesGiveTheStrongestRole(t *testing.T) {
	a := Admin{Rules: []AdminRule{
		{Name: "viewers", CEL: "true", Role: AdminViewer},
		{Name: "owners", Match: nil, CEL: `"admins" in claims.groups`, Role: AdminOwner},
		{Name: "editors", CEL: `"eng" in claims.groups`, Role: AdminEditor},
	}}
	m, problems := a.CompileAdminRules()
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, tt := range []struct {
		groups []any
		want   string
	}{{[]any{"x"}, AdminViewer}, {[]any{"eng"}, AdminEditor}, {[]any{"eng", "admins"}, AdminOwner}} {
		best := ""
		for _, g := range m.Evaluate(map[string]any{"groups": tt.groups}).Grants {
			if r := AdminRoleOf(g.Role); AdminRoleRank(r) > AdminRoleRank(best) {
				best = r
			}
		}
		if best != tt.want {
			t.Errorf("groups %v: role %q, want %q", tt.groups, best, tt.want)
		}
	}
	if AdminRoleOf("arn:aws:iam::123456789012:role/fedgate-admin-owner") != "" {
		t.Error("a real account's role ARN was read as an admin role")
	}
}
