package config

import (
	"errors"
	"os"
	"strings"
	"testing"

	"fedgate/exchange/modes"
)

// The checks follow each mode's spec; their paths and messages are what
// admins see in `fedgate check` and the admin API.
func TestModeProblems(t *testing.T) {
	const (
		brokerPool = "    providers: [okta, corp]\n    mode: saml-broker\n    saml_provider_arn: arn:aws:iam::123456789012:saml-provider/fedgate\n"
		readerRole = "role: arn:aws:iam::123456789012:role/reader}"
	)
	tests := []struct {
		name, from, to, path, message string
	}{
		{"unknown mode", "    mode: saml-forward\n", "    mode: saml-fwd\n", "pools[0].mode",
			`unknown exchange mode "saml-fwd" (supported: gateway-token, upstream-token, saml-forward, saml-broker)`},
		{"upstream-token with a saml provider", "    mode: saml-forward\n", "    mode: upstream-token\n", "pools[0].providers[0]",
			`upstream-token mode forwards an OIDC ID token; provider "okta" is saml`},
		{"saml-forward with an oidc provider", "    providers: [okta]\n", "    providers: [okta, corp]\n", "pools[0].providers[1]",
			`saml-forward mode forwards the IdP's SAML response; provider "corp" is oidc`},
		{"saml-forward with principal tags", "    mode: saml-forward\n", "    mode: saml-forward\n    principal_tags: {d: department}\n", "pools[0].principal_tags",
			"saml-forward mode forwards the IdP's response unchanged, so fedgate cannot add session tags; use saml-broker mode"},
		{"saml-forward with rule tags", readerRole, "role: arn:aws:iam::123456789012:role/reader, tags: {t: v}}", "pools[0].rules[0].tags",
			"saml-forward mode cannot add session tags; use saml-broker mode"},
		{"upstream-token with principal tags", brokerPool, "    providers: [corp]\n    mode: upstream-token\n", "pools[1].principal_tags",
			"upstream-token mode forwards the IdP's token unchanged, so fedgate cannot add session tags; use gateway-token mode"},
		{"guests outside gateway-token", brokerPool, brokerPool + "    allow_guests: true\n    unauthenticated_role: arn:aws:iam::123456789012:role/guest\n", "pools[1].allow_guests",
			"guest identities need the gateway-token mode"},
		{"provider ARN in gateway-token", "    mode: saml-forward\n", "", "pools[0].saml_provider_arn",
			"only the saml-forward and saml-broker modes use an IAM SAML provider"},
		{"saml-forward without provider ARN", "    saml_provider_arn: arn:aws:iam::123456789012:saml-provider/okta\n", "", "pools[0].saml_provider_arn",
			"the saml-forward mode needs the IAM SAML provider ARN, e.g. arn:aws:iam::123456789012:saml-provider/fedgate"},
		{"two broker pools on one IAM SAML provider", "    principal_tags: {department: department}\n", "    principal_tags: {department: department}\n" +
			"  - id: us-east-1:2b3c4d5e-6f7a-4b2c-9d3e-4f5a6b7c8d9e\n    name: broker2\n    providers: [corp]\n    mode: saml-broker\n" +
			"    saml_provider_arn: arn:aws:iam::123456789012:saml-provider/fedgate\n    roles_claim: roles\n", "pools[2].saml_provider_arn",
			`the saml-broker pool "broker" already uses this IAM SAML provider; give each saml-broker pool its own, or its roles would trust both pools`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(samlConfig, tt.from) {
				t.Fatalf("fixture lacks %q", tt.from)
			}
			_, err := Parse([]byte(strings.Replace(samlConfig, tt.from, tt.to, 1)), envOf(nil))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			for _, p := range ps {
				if p.Path == tt.path && p.Message == tt.message {
					return
				}
			}
			t.Fatalf("no problem %q at %s; got:\n%v", tt.message, tt.path, ps)
		})
	}
}

// Every registered mode takes provider types the configuration knows, and
// the reference lists every mode.
func TestRegisteredModesFitTheConfiguration(t *testing.T) {
	known := map[string]bool{ProviderOIDC: true, ProviderStatic: true, ProviderSAML: true}
	doc, err := os.ReadFile(refDocPath)
	if err != nil {
		t.Fatal(err)
	}
	var modeRow string
	for line := range strings.SplitSeq(string(doc), "\n") {
		if strings.HasPrefix(line, "| `pools[].mode` |") {
			modeRow = line
		}
	}
	if modeRow == "" {
		t.Fatal("docs/configuration.md has no pools[].mode row")
	}
	for _, s := range modes.All() {
		for _, typ := range s.ProviderTypes {
			if !known[typ] {
				t.Errorf("mode %q takes the unknown provider type %q", s.Name, typ)
			}
		}
		if !strings.Contains(modeRow, "`"+s.Name+"`") {
			t.Errorf("docs/configuration.md, pools[].mode, does not list the mode %q", s.Name)
		}
	}
	if _, ok := modes.Lookup(ModeGatewayToken); !ok {
		t.Errorf("the default mode %q is not registered", ModeGatewayToken)
	}
}
