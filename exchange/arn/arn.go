// Package arn parses Amazon Resource Names and checks the IAM ones fedgate
// handles: roles, SAML providers and OIDC providers. It is a leaf: the
// configuration, the rules, the SAML Role attribute and the trust policies
// all accept the same sets.
package arn

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLen bounds an ARN: STS takes role and principal ARNs of at most 2048
// characters.
const MaxLen = 2048

// IAM's documented name limits.
const (
	maxRoleNameLen         = 64  // CreateRole RoleName
	maxPathLen             = 512 // CreateRole Path, slashes included
	maxSAMLProviderNameLen = 128 // CreateSAMLProvider Name
	maxOIDCProviderURLLen  = 255 // CreateOpenIDConnectProvider Url, https:// included
)

// Resource prefixes of the IAM ARNs this package knows.
const (
	rolePrefix         = "role/"
	samlProviderPrefix = "saml-provider/"
	oidcProviderPrefix = "oidc-provider/"
)

// ErrInvalid is wrapped by every Parse error.
var ErrInvalid = errors.New("not an ARN")

// ARN is arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
type ARN struct {
	Partition string // aws, aws-cn, aws-us-gov, ...
	Service   string
	Region    string // empty for global services such as IAM
	AccountID string // 12 digits; empty or "aws" for some resources
	Resource  string
}

// String is the ARN in its usual form.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.AccountID + ":" + a.Resource
}

// Parse splits s into its parts. It checks the shape only: an AWS
// partition, a service, a region and account made of the characters AWS
// uses, and a resource of printable ASCII. What a resource may hold depends
// on the service; IsRole and the other Is* functions check IAM's.
func Parse(s string) (ARN, error) {
	if len(s) > MaxLen {
		return ARN{}, invalid("longer than 2048 characters")
	}
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return ARN{}, invalid("does not start with arn:")
	}
	parts := strings.SplitN(rest, ":", 5)
	if len(parts) != 5 {
		return ARN{}, invalid("has fewer than six colon-separated parts")
	}
	a := ARN{Partition: parts[0], Service: parts[1], Region: parts[2], AccountID: parts[3], Resource: parts[4]}
	switch {
	case !validPartition(a.Partition):
		return ARN{}, invalid("partition is not aws, aws-cn, aws-us-gov or another aws-* partition")
	case a.Service == "" || !all(a.Service, isServiceChar):
		return ARN{}, invalid("service is not lowercase letters, digits and '-'")
	case !all(a.Region, isServiceChar):
		return ARN{}, invalid("region is not lowercase letters, digits and '-'")
	case !all(a.AccountID, isAccountChar):
		return ARN{}, invalid("account is not digits or a lowercase name")
	case a.Resource == "" || !all(a.Resource, isPrintable):
		return ARN{}, invalid("resource is empty or not printable ASCII")
	}
	return a, nil
}

func invalid(why string) error { return fmt.Errorf("%w: %s", ErrInvalid, why) }

// IsRole reports whether s is an IAM role ARN: any AWS partition, no
// region, a 12-digit account, an optional path and a role name.
func IsRole(s string) bool {
	res, ok := iamResource(s, rolePrefix)
	if !ok {
		return false
	}
	slash := strings.LastIndexByte(res, '/')
	// IAM paths are "/" or "/a/b/"; in the ARN the leading slash is the
	// one after "role".
	return validPath("/"+res[:slash+1]) && validRoleName(res[slash+1:])
}

// IsSAMLProvider reports whether s is an IAM SAML provider ARN. SAML
// providers have no path, and IAM names them with [\w.-], 1..128.
func IsSAMLProvider(s string) bool {
	name, ok := iamResource(s, samlProviderPrefix)
	return ok && len(name) <= maxSAMLProviderNameLen && all(name, isSAMLProviderNameChar)
}

// IsOIDCProvider reports whether s is an IAM OIDC provider ARN: its name is
// the issuer URL without https://, a host and an optional path (no port,
// query or fragment, as IAM's issuers have none).
func IsOIDCProvider(s string) bool {
	name, ok := iamResource(s, oidcProviderPrefix)
	if !ok || len("https://")+len(name) > maxOIDCProviderURLLen {
		return false
	}
	host, path, _ := strings.Cut(name, "/")
	return validHost(host) && all(path, isURLPathChar)
}

// Account is the account id of an ARN, or "" when s is not one.
func Account(s string) string {
	a, err := Parse(s)
	if err != nil {
		return ""
	}
	return a.AccountID
}

// Partition is the partition of an ARN, or "" when s is not one.
func Partition(s string) string {
	a, err := Parse(s)
	if err != nil {
		return ""
	}
	return a.Partition
}

// iamResource returns the resource name after prefix when s is an IAM ARN
// of a 12-digit account with that resource type.
func iamResource(s, prefix string) (string, bool) {
	a, err := Parse(s)
	if err != nil || a.Service != "iam" || a.Region != "" || len(a.AccountID) != 12 || !all(a.AccountID, isDigit) {
		return "", false
	}
	name, ok := strings.CutPrefix(a.Resource, prefix)
	return name, ok && name != ""
}

// validPartition accepts "aws" followed by lowercase letters and '-', as
// every AWS partition is named (aws-cn, aws-us-gov, aws-iso-b, ...).
func validPartition(p string) bool {
	rest, ok := strings.CutPrefix(p, "aws")
	return ok && all(rest, func(c byte) bool { return isLower(c) || c == '-' })
}

// validPath checks an IAM path: "/" or "/a/b/", at most 512 characters of
// printable ASCII. IAM's own pattern allows an empty segment inside a
// longer path; it is refused here, as no real path has one and "//" is
// the mark of a mistake.
func validPath(p string) bool {
	return len(p) <= maxPathLen && all(p, isPrintable) && !strings.Contains(p, "//")
}

// validRoleName checks an IAM role name: 1..64 characters of [\w+=,.@-].
func validRoleName(n string) bool {
	return n != "" && len(n) <= maxRoleNameLen && all(n, isRoleNameChar)
}

// validHost checks a DNS host name: dot-separated labels of letters,
// digits and '-'.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || !all(label, func(c byte) bool { return isLower(c) || isUpper(c) || isDigit(c) || c == '-' }) {
			return false
		}
	}
	return true
}

func all(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool     { return '0' <= c && c <= '9' }
func isLower(c byte) bool     { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool     { return 'A' <= c && c <= 'Z' }
func isPrintable(c byte) bool { return 0x21 <= c && c <= 0x7e }
func isWord(c byte) bool      { return isLower(c) || isUpper(c) || isDigit(c) || c == '_' }

func isServiceChar(c byte) bool { return isLower(c) || isDigit(c) || c == '-' }
func isAccountChar(c byte) bool { return isLower(c) || isDigit(c) }

func isRoleNameChar(c byte) bool { return isWord(c) || strings.IndexByte("+=,.@-", c) >= 0 }

func isSAMLProviderNameChar(c byte) bool { return isWord(c) || c == '.' || c == '-' }

// isURLPathChar is RFC 3986's pchar and '/', without ',': a comma
// separates role and provider in a SAML Role attribute.
func isURLPathChar(c byte) bool {
	return isWord(c) || strings.IndexByte("/.~-!$&'()*+;=:@%", c) >= 0
}

// Flavor is the kind of STS fedgate calls (sts.flavor); it decides which
// role ARNs are valid, as each STS names roles its own way.
type Flavor string

// STS flavors.
const (
	// FlavorAWS is AWS STS, or a clone that names roles as IAM does:
	// arn:<aws partition>:iam::<account>:role/<path><name>.
	FlavorAWS Flavor = "aws"
	// FlavorMinIO is MinIO's STS, whose OpenID role policies are named
	// arn:minio:iam:<region>::role/<id>, the region usually empty.
	FlavorMinIO Flavor = "minio"
)

// Flavors lists the known flavors.
func Flavors() []Flavor { return []Flavor{FlavorAWS, FlavorMinIO} }

// IsRole reports whether s names a role of this flavor's STS; the zero
// Flavor is FlavorAWS.
func (f Flavor) IsRole(s string) bool {
	switch f {
	case "", FlavorAWS:
		return IsRole(s)
	case FlavorMinIO:
		return IsMinIORole(s)
	}
	return false
}

// RoleExample is a role ARN of this flavor, for messages.
func (f Flavor) RoleExample() string {
	if f == FlavorMinIO {
		return "arn:minio:iam:::role/name"
	}
	return "arn:aws:iam::123456789012:role/name"
}

// maxMinIORoleIDLen bounds a MinIO role id; MinIO's own are 27 characters.
const maxMinIORoleIDLen = 128

// IsMinIORole reports whether s is a MinIO role ARN:
// arn:minio:iam:<region>::role/<id>, with an empty account, a region that
// may be empty, and an id of letters, digits and _ / . - (MinIO's rule).
func IsMinIORole(s string) bool {
	rest, ok := strings.CutPrefix(s, "arn:minio:iam:")
	if !ok {
		return false
	}
	region, rest, ok := strings.Cut(rest, ":")
	if !ok || !all(region, isServiceChar) {
		return false
	}
	id, ok := strings.CutPrefix(rest, ":role/")
	return ok && id != "" && len(id) <= maxMinIORoleIDLen && all(id, isMinIORoleIDChar)
}

func isMinIORoleIDChar(c byte) bool {
	return isLower(c) || isDigit(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '/' || c == '.' || c == '-'
}
