package config

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// A key given twice in a provider entry is refused, as yaml refuses it
// elsewhere: otherwise a later `id` or `type` would silently win over the
// one a reviewer reads first.
func TestProviderKeyGivenTwice(t *testing.T) {
	for _, key := range []string{"id", "type", "display_name", "issuer"} {
		doc := "- id: corp\n  type: oidc\n  display_name: Corp\n  issuer: https://idp.example\n  client_id: x\n  " + key + ": again\n"
		var ps []Provider
		if err := yaml.Unmarshal([]byte(doc), &ps); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		problems := ps[0].DecodeProblems("providers[0]")
		if len(problems) != 1 || problems[0].Path != "providers[0]."+key || !strings.Contains(problems[0].Message, "already defined at line") {
			t.Errorf("%s given twice: problems %v", key, problems)
		}
	}
}
