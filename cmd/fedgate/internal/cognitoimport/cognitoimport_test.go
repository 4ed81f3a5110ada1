package cognitoimport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Convert's output for each pool in testdata is pinned in
// testdata/<name>.fedgate.yaml (regenerate with UPDATE_GOLDEN=1), with
// its notes; cmd/fedgate's test runs `fedgate check` on them.
func TestConvertGolden(t *testing.T) {
	for _, name := range []string{"mobile", "saml"} {
		t.Run(name, func(t *testing.T) {
			read := func(suffix string) []byte {
				b, err := os.ReadFile(filepath.Join("testdata", name+suffix))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			res, err := Convert(read(".describe-identity-pool.json"), read(".get-identity-pool-roles.json"))
			if err != nil {
				t.Fatal(err)
			}
			got := string(res.YAML) + "# notes:\n# " + strings.Join(res.Notes, "\n# ") + "\n"
			golden := filepath.Join("testdata", name+".fedgate.yaml")
			if os.Getenv("UPDATE_GOLDEN") == "1" {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := string(read(".fedgate.yaml")); got != want {
				t.Errorf("output differs from %s:\n%s", golden, got)
			}
		})
	}
}

func TestConvertRefusals(t *testing.T) {
	pool := `{"IdentityPoolId":"us-east-1:0a","SupportedLoginProviders":{"login.example.com":"c"}}`
	for name, tc := range map[string]struct{ pool, roles, want string }{
		"not JSON":           {"{", "", "describe-identity-pool output"},
		"no pool id":         {`{}`, "", "no IdentityPoolId"},
		"roles of another":   {pool, `{"IdentityPoolId":"us-east-1:0b"}`, "the roles are of pool us-east-1:0b"},
		"unknown match type": {pool, `{"RoleMappings":{"login.example.com":{"Type":"Rules","RulesConfiguration":{"Rules":[{"Claim":"a","MatchType":"Regex","Value":"x","RoleARN":"r"}]}}}}`, `unknown MatchType "Regex"`},
		"unknown type":       {pool, `{"RoleMappings":{"login.example.com":{"Type":"Magic"}}}`, `unknown Type "Magic"`},
	} {
		if _, err := Convert([]byte(tc.pool), []byte(tc.roles)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}
