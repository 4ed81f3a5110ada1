package arn

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want ARN
		ok   bool
	}{
		{"arn:aws:iam::123456789012:role/dev", ARN{"aws", "iam", "", "123456789012", "role/dev"}, true},
		{"arn:aws-us-gov:sts::123456789012:assumed-role/dev/alice", ARN{"aws-us-gov", "sts", "", "123456789012", "assumed-role/dev/alice"}, true},
		{"arn:aws:s3:::bucket/key:with:colons", ARN{"aws", "s3", "", "", "bucket/key:with:colons"}, true},
		{"arn:aws:iam::aws:policy/ReadOnlyAccess", ARN{"aws", "iam", "", "aws", "policy/ReadOnlyAccess"}, true},
		{"arn:aws-cn:lambda:cn-north-1:123456789012:function:f", ARN{"aws-cn", "lambda", "cn-north-1", "123456789012", "function:f"}, true},
		{"", ARN{}, false},
		{"arn:", ARN{}, false},
		{"arn:aws:iam::123456789012", ARN{}, false},
		{"arn:aws:iam::123456789012:", ARN{}, false},
		{"urn:aws:iam::123456789012:role/x", ARN{}, false},
		{"arn:gcp:iam::123456789012:role/x", ARN{}, false},
		{"arn:AWS:iam::123456789012:role/x", ARN{}, false},
		{"arn:aws::us-east-1:123456789012:x", ARN{}, false},
		{"arn:aws:IAM::123456789012:role/x", ARN{}, false},
		{"arn:aws:iam:US-EAST-1:123456789012:role/x", ARN{}, false},
		{"arn:aws:iam::12345678901X:role/x", ARN{}, false},
		{"arn:aws:iam::123456789012:role/a b", ARN{}, false},
		{"arn:aws:iam::123456789012:role/x\n", ARN{}, false},
		{"arn:aws:iam::123456789012:role/" + strings.Repeat("x", MaxLen), ARN{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("Parse(%q) error = %v, want ok %v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if tt.ok && got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

type checkCase struct {
	arn  string
	want bool
}

func checkAll(t *testing.T, is func(string) bool, tests []checkCase) {
	t.Helper()
	for _, tt := range tests {
		if got := is(tt.arn); got != tt.want {
			t.Errorf("%q: got %v, want %v", tt.arn, got, tt.want)
		}
	}
}

func TestIsRole(t *testing.T) {
	tests := []checkCase{
		{"arn:aws:iam::123456789012:role/admin", true},
		{"arn:aws:iam::123456789012:role/teams/readonly", true},
		{"arn:aws:iam::123456789012:role/dev/reader", true},
		{"arn:aws:iam::123456789012:role/a/b/c/Name_with+=,.@-", true},
		{"arn:aws-us-gov:iam::123456789012:role/x", true},
		{"arn:aws-cn:iam::123456789012:role/x", true},
		{"arn:aws:iam::123456789012:role/" + strings.Repeat("n", 64), true},
		{"arn:aws:iam::123456789012:role/p!a#t~h/x", true}, // IAM paths take any printable ASCII
		{"arn:aws:iam::123456789012:role/" + strings.Repeat("p/", 255) + "x", true},
		{"arn:aws:iam::123456789012:role/" + strings.Repeat("n", 65), false},
		{"arn:aws:iam::123456789012:role/", false},
		{"arn:aws:iam::123456789012:role/path/", false},
		{"arn:aws:iam::123456789012:role//name", false},
		{"arn:aws:iam::123456789012:role/pa th/name", false},
		{"arn:aws:iam::123456789012:role/na me", false},
		{"arn:aws:iam::123456789012:role/nämé", false},
		{"arn:aws:iam::123456789012:role/na:me", false},
		{"arn:aws:iam::12345678901:role/x", false},
		{"arn:aws:iam::1234567890123:role/x", false},
		{"arn:aws:iam::1234:role/x", false},
		{"arn:aws:iam::12345:role/x", false},
		{"arn:aws:iam::1:role/x", false},
		{"arn:aws:iam::aws:role/x", false},
		{"arn:aws:iam:us-east-1:123456789012:role/x", false},
		{"arn:aws:sts::123456789012:role/x", false},
		{"arn:aws:iam::123456789012:user/x", false},
		{"arn:aws:iam::123456789012:user/ada", false},
		{"arn:aws:iam::123456789012:saml-provider/x", false},
		{"arn:AWS:iam::123456789012:role/x", false},
		{" arn:aws:iam::123456789012:role/x", false},
		{"arn:aws:iam::123456789012:role/x\n", false},
		{"arn:aws:iam::123456789012:role/" + strings.Repeat("p/", 256) + "x", false},
		{"not-an-arn", false},
		{"nope", false},
		{"", false},
	}
	checkAll(t, IsRole, tests)
}

func TestIsSAMLProvider(t *testing.T) {
	tests := []checkCase{
		{"arn:aws:iam::123456789012:saml-provider/fedgate", true},
		{"arn:aws:iam::123456789012:saml-provider/Corp-IdP", true},
		{"arn:aws:iam::123456789012:saml-provider/corp_idp.v2", true},
		{"arn:aws-us-gov:iam::123456789012:saml-provider/okta", true},
		{"arn:aws:iam::123456789012:saml-provider/" + strings.Repeat("n", 128), true},
		{"arn:aws:iam::123456789012:saml-provider/" + strings.Repeat("n", 129), false},
		{"arn:aws:iam::123456789012:saml-provider/", false},
		{"arn:aws:iam::123456789012:saml-provider/path/okta", false},
		{"arn:aws:iam::123456789012:saml-provider/a+b", false}, // IAM names SAML providers with [\w.-] only
		{"arn:aws:iam::123456789012:saml-provider/a@b", false},
		{"arn:aws:iam::123456789012:saml-provider/a,b", false},
		{"arn:aws:iam::123456789012:oidc-provider/fedgate", false},
		{"arn:aws:iam::123456789012:role/fedgate", false},
		{"arn:aws:iam::1234:saml-provider/fedgate", false},
		{"arn:aws:iam:us-east-1:123456789012:saml-provider/fedgate", false},
		{"arn:aws:sts::123456789012:saml-provider/fedgate", false},
		{"junk", false},
		{"", false},
	}
	checkAll(t, IsSAMLProvider, tests)
}

func TestIsOIDCProvider(t *testing.T) {
	tests := []checkCase{
		{"arn:aws:iam::123456789012:oidc-provider/fedgate.example.com", true},
		{"arn:aws:iam::123456789012:oidc-provider/idp.example.com/tenant", true},
		{"arn:aws:iam::123456789012:oidc-provider/fedgate.example.com/pools/payments", true},
		{"arn:aws-us-gov:iam::210987654321:oidc-provider/fedgate.example.com", true},
		{"arn:aws:iam::123456789012:oidc-provider/fedgate", true},
		{"arn:aws:iam::123456789012:oidc-provider/" + strings.Repeat("a", 247), true},
		{"arn:aws:iam::123456789012:oidc-provider/" + strings.Repeat("a", 248), false},
		{"arn:aws:iam::123456789012:oidc-provider/", false},
		{"arn:aws:iam::123456789012:oidc-provider/host:8443", false},
		{"arn:aws:iam::123456789012:oidc-provider/host..example", false},
		{"arn:aws:iam::123456789012:oidc-provider/host/a,b", false},
		{"arn:aws:iam::123456789012:oidc-provider/host/a?b", false},
		{"arn:aws:iam::123456789012:oidc-provider/host/a#b", false},
		{"arn:aws:iam::123456789012:saml-provider/fedgate", false},
		{"arn:aws:iam::12345678901:oidc-provider/fedgate.example.com", false},
		{"", false},
	}
	checkAll(t, IsOIDCProvider, tests)
}

func TestAccountAndPartition(t *testing.T) {
	tests := []struct{ in, account, partition string }{
		{"arn:aws:iam::123456789012:role/x", "123456789012", "aws"},
		{"arn:aws-us-gov:iam::210987654321:role/x", "210987654321", "aws-us-gov"},
		{"arn:aws-cn:s3:::bucket", "", "aws-cn"},
		{"not an arn", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := Account(tt.in); got != tt.account {
			t.Errorf("Account(%q) = %q, want %q", tt.in, got, tt.account)
		}
		if got := Partition(tt.in); got != tt.partition {
			t.Errorf("Partition(%q) = %q, want %q", tt.in, got, tt.partition)
		}
	}
}

// FuzzParse: whatever Parse accepts prints back to the same string, and
// every IAM check implies a parse into an IAM ARN of a 12-digit account.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"arn:aws:iam::123456789012:role/dev/reader",
		"arn:aws:iam::123456789012:saml-provider/okta",
		"arn:aws-us-gov:iam::123456789012:oidc-provider/idp.example.com/tenant",
		"arn:aws:s3:::bucket/key",
		"arn:aws:iam::123456789012:role//x",
		"arn::::::",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrInvalid", s, err)
			}
			if IsRole(s) || IsSAMLProvider(s) || IsOIDCProvider(s) || Account(s) != "" || Partition(s) != "" {
				t.Fatalf("%q does not parse, yet a check accepts it", s)
			}
			return
		}
		if a.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, a.String())
		}
		if Account(s) != a.AccountID || Partition(s) != a.Partition {
			t.Fatalf("Account/Partition disagree with Parse for %q", s)
		}
		iam := a.Service == "iam" && a.Region == "" && len(a.AccountID) == 12
		checks := 0
		for _, is := range []func(string) bool{IsRole, IsSAMLProvider, IsOIDCProvider} {
			if is(s) {
				checks++
			}
		}
		if checks > 1 || (checks == 1 && !iam) {
			t.Fatalf("%q: %d IAM checks accept it (IAM shape %v)", s, checks, iam)
		}
		if checks == 1 && strings.ContainsAny(s, " \t\r\n") {
			t.Fatalf("%q: accepted with white space", s)
		}
	})
}

func TestFlavorIsRole(t *testing.T) {
	tests := []struct {
		arn        string
		aws, minio bool
	}{
		{"arn:aws:iam::123456789012:role/reader", true, false},
		{"arn:aws-cn:iam::123456789012:role/reader", true, false},
		{"arn:aws-us-gov:iam::123456789012:role/team/reader", true, false},
		{"arn:minio:iam:::role/nOybJqMNzNmroqEKq5D0EUsRZw0", false, true},
		{"arn:minio:iam:us-east-1::role/reader", false, true},
		{"arn:minio:iam:::role/a/b.c_d-e", false, true},
		{"arn:minio:iam::123456789012:role/reader", false, false}, // MinIO roles have no account
		{"arn:minio:iam:::role/", false, false},
		{"arn:minio:iam:::role/has space", false, false},
		{"arn:minio:iam:::user/reader", false, false},
		{"arn:minio:s3:::role/reader", false, false},
		{"arn:minio:iam:US-EAST-1::role/reader", false, false},
		{"arn:minio:iam:::role/" + strings.Repeat("a", 129), false, false},
	}
	for _, tt := range tests {
		if got := FlavorAWS.IsRole(tt.arn); got != tt.aws {
			t.Errorf("aws IsRole(%q) = %v, want %v", tt.arn, got, tt.aws)
		}
		if got := Flavor("").IsRole(tt.arn); got != tt.aws {
			t.Errorf("default flavor IsRole(%q) = %v, want %v (aws)", tt.arn, got, tt.aws)
		}
		if got := FlavorMinIO.IsRole(tt.arn); got != tt.minio {
			t.Errorf("minio IsRole(%q) = %v, want %v", tt.arn, got, tt.minio)
		}
		if Flavor("ceph").IsRole(tt.arn) {
			t.Errorf("an unknown flavor accepted %q", tt.arn)
		}
	}
}
