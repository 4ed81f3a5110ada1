package idp

import (
	"slices"
	"strings"

	"fedgate/exchange/arn"
)

// AWSRoleAttribute is the SAML attribute, and so the claim, that offers AWS
// roles: "roleArn,providerArn" pairs (either order).
const AWSRoleAttribute = "https://aws.amazon.com/SAML/Attributes/Role"

// RolePair is one AWS role a SAML assertion offers, with the IAM SAML
// provider that AssumeRoleWithSAML must name for it.
type RolePair struct {
	RoleARN     string
	ProviderARN string
}

// ParseAWSRoles parses a Role claim value (a string or a list of strings).
func ParseAWSRoles(claim any) []RolePair {
	var raw []string
	switch v := claim.(type) {
	case string:
		raw = []string{v}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				raw = append(raw, s)
			}
		}
	case []string:
		raw = v
	}
	var out []RolePair
	for _, value := range raw {
		parts := strings.Split(value, ",")
		if len(parts) != 2 {
			continue
		}
		a, b := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		if arn.IsSAMLProvider(a) {
			a, b = b, a
		}
		if !arn.IsRole(a) || !arn.IsSAMLProvider(b) {
			continue
		}
		p := RolePair{RoleARN: a, ProviderARN: b}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
