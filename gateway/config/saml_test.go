package config

import (
	"errors"
	samlidp "fedgate/idp/saml"
	"os"
	"strings"
	"testing"
	"time"
)

const samlConfig = `
server:
  public_url: https://fedgate.example.com
keys:
  master_key: k
providers:
  - id: okta
    type: saml
    idp_metadata_url: https://idp.example.com/metadata
    allow_idp_initiated: true
  - id: corp
    type: oidc
    issuer: https://idp.example.com
    client_id: fedgate
pools:
  - id: us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11
    name: forward
    providers: [okta]
    mode: saml-forward
    saml_provider_arn: arn:aws:iam::123456789012:saml-provider/okta
    rules:
      - {name: readers, match: [{claim: groups, op: equals, value: readers}], role: arn:aws:iam::123456789012:role/reader}
  - id: us-east-1:1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d
    name: broker
    providers: [okta, corp]
    mode: saml-broker
    saml_provider_arn: arn:aws:iam::123456789012:saml-provider/fedgate
    principal_tags: {department: department}
    rules:
      - {name: readers, match: [{claim: groups, op: equals, value: readers}], role: arn:aws:iam::123456789012:role/reader}
`

func TestParseSAMLAppliesDefaults(t *testing.T) {
	f, err := Parse([]byte(samlConfig), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := f.Providers[0].Settings.(*samlidp.Settings)
	if p.EntityID != "https://fedgate.example.com/saml/metadata/okta" || !p.AllowIdPInitiated || p.ClockSkew == nil || p.ClockSkew.D() != time.Minute {
		t.Errorf("saml provider defaults: %+v", p)
	}
	if p.ACSURL != "https://fedgate.example.com/saml/acs/okta" {
		t.Errorf("ACS URL = %s", p.ACSURL)
	}
	b := f.SAMLBroker
	if b.EntityID != "https://fedgate.example.com/saml/idp" || b.SignInURL != DefaultSAMLSignInURL || b.AssertionTTL.D() != DefaultSAMLAssertionTTL {
		t.Errorf("broker defaults: %+v", b)
	}
}

func TestSAMLProblems(t *testing.T) {
	tests := []struct {
		name, from, to, wantPath string
	}{
		{"no metadata", "    idp_metadata_url: https://idp.example.com/metadata\n", "", "providers[0].idp_metadata_url"},
		{"both metadata", "    allow_idp_initiated: true\n", "    allow_idp_initiated: true\n    idp_metadata: '<x/>'\n", "providers[0].idp_metadata"},
		{"http metadata off loopback", "https://idp.example.com/metadata", "http://idp.example.com/metadata", "providers[0].idp_metadata_url"},
		{"key without cert", "    allow_idp_initiated: true\n", "    allow_idp_initiated: true\n    sp_key: x\n", "providers[0].sp_key"},
		{"bad key pair", "    allow_idp_initiated: true\n", "    allow_idp_initiated: true\n    sp_key: x\n    sp_certificate: y\n", "providers[0].sp_key"},
		{"relative entity id", "    allow_idp_initiated: true\n", "    allow_idp_initiated: true\n    entity_id: fedgate\n", "providers[0].entity_id"},
		{"saml fields on oidc", "    client_id: fedgate\n", "    client_id: fedgate\n    allow_idp_initiated: true\n", "providers[1].allow_idp_initiated"},
		{"forward without provider ARN", "    saml_provider_arn: arn:aws:iam::123456789012:saml-provider/okta\n", "", "pools[0].saml_provider_arn"},
		{"broker with bad provider ARN", "saml-provider/fedgate", "oidc-provider/fedgate", "pools[1].saml_provider_arn"},
		{"provider ARN outside IAM's name characters", "saml-provider/fedgate", "saml-provider/fed+gate", "pools[1].saml_provider_arn"},
		{"forward with an oidc provider", "    providers: [okta]\n", "    providers: [okta, corp]\n", "pools[0].providers[1]"},
		{"forward with tags", "    mode: saml-forward\n", "    mode: saml-forward\n    principal_tags: {d: department}\n", "pools[0].principal_tags"},
		{"provider ARN in gateway-token", "    mode: saml-forward\n", "", "pools[0].saml_provider_arn"},
		{"upstream-token with saml", "    mode: saml-forward\n", "    mode: upstream-token\n", "pools[0].providers[0]"},
		{"two broker pools on one IAM SAML provider", "    principal_tags: {department: department}\n", "    principal_tags: {department: department}\n" +
			"  - id: us-east-1:2b3c4d5e-6f7a-4b2c-9d3e-4f5a6b7c8d9e\n    name: broker2\n    providers: [corp]\n    mode: saml-broker\n" +
			"    saml_provider_arn: arn:aws:iam::123456789012:saml-provider/fedgate\n    roles_claim: roles\n", "pools[2].saml_provider_arn"},
		{"broker TTL", "pools:\n", "saml_broker: {assertion_ttl: 1h}\npools:\n", "saml_broker.assertion_ttl"},
		{"broker signin URL", "pools:\n", "saml_broker: {signin_url: 'http://signin.example.com'}\npools:\n", "saml_broker.signin_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := samlConfig
			if !strings.Contains(doc, tt.from) {
				t.Fatalf("fixture lacks %q", tt.from)
			}
			doc = strings.Replace(doc, tt.from, tt.to, 1)
			_, err := Parse([]byte(doc), envOf(nil))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			for _, p := range ps {
				if p.Path == tt.wantPath {
					return
				}
			}
			t.Fatalf("no problem at %s; got:\n%v", tt.wantPath, ps)
		})
	}
}

// A real key pair is accepted: the SP can sign AuthnRequests, decrypt
// assertions and publish its certificate. A certificate of another key is not.
func TestParseSPKeyPairAcceptsAMatchingPair(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../../idp/saml/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	key, cert, err := samlidp.ParseSPKeyPair(read("sp.key.pem"), read("sp.cert.pem"))
	if err != nil || key == nil || cert == nil {
		t.Fatalf("matching SP key pair refused: %v", err)
	}
	if _, _, err := samlidp.ParseSPKeyPair(read("sp.key.pem"), read("idp.cert.pem")); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("a certificate of another key: %v", err)
	}
}
