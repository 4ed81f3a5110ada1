package idp

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"fedgate/exchange/arn"
)

func TestParseAWSRoles(t *testing.T) {
	const role, prov = "arn:aws:iam::123456789012:role/dev/reader", "arn:aws:iam::123456789012:saml-provider/Corp-IdP"
	tests := []struct {
		name  string
		claim any
		want  []RolePair
	}{
		{"role,provider", role + "," + prov, []RolePair{{role, prov}}},
		{"provider,role", prov + "," + role, []RolePair{{role, prov}}},
		{"spaces", " " + role + " , " + prov + " ", []RolePair{{role, prov}}},
		{"list with duplicate and junk", []any{role + "," + prov, prov + "," + role, "junk", 42, role}, []RolePair{{role, prov}}},
		{"two roles", []string{role + "," + prov, "arn:aws-us-gov:iam::123456789012:role/x," + prov}, []RolePair{{role, prov}, {"arn:aws-us-gov:iam::123456789012:role/x", prov}}},
		{"two roles no provider", role + "," + role, nil},
		{"three parts", role + "," + prov + "," + prov, nil},
		{"bad account", "arn:aws:iam::1234:role/x," + prov, nil},
		{"role name longer than IAM allows", "arn:aws:iam::123456789012:role/" + strings.Repeat("n", 65) + "," + prov, nil},
		{"role without a name", "arn:aws:iam::123456789012:role/dev/," + prov, nil},
		{"provider name outside IAM's characters", role + ",arn:aws:iam::123456789012:saml-provider/a+b", nil},
		{"role path of printable ASCII", "arn:aws:iam::123456789012:role/p!a~th/x," + prov, []RolePair{{"arn:aws:iam::123456789012:role/p!a~th/x", prov}}},
		{"missing", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseAWSRoles(tt.claim); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzParseAWSRoles parses arbitrary Role claim values, alone or in a
// list: only well-formed ARN pairs come out, without duplicates.
func FuzzParseAWSRoles(f *testing.F) {
	const role, prov = "arn:aws:iam::123456789012:role/r", "arn:aws:iam::123456789012:saml-provider/p"
	f.Add(prov+","+role, "")
	f.Add(" "+role+" , "+prov, role+","+prov)
	f.Add(role+",x,"+prov, "junk")
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, claim := range []any{a, []any{a, b}, []string{a, b}} {
			roles := ParseAWSRoles(claim)
			for _, p := range roles {
				if !arn.IsRole(p.RoleARN) || !arn.IsSAMLProvider(p.ProviderARN) || strings.Contains(p.RoleARN+p.ProviderARN, ",") {
					t.Fatalf("bad role pair %+v", p)
				}
			}
			if len(slices.Compact(slices.Clone(roles))) != len(roles) {
				t.Fatal("duplicate role pairs")
			}
		}
	})
}
