package cli

import (
	"strings"
	"testing"
)

func TestParseLoopbackRedirectAcceptsLoopback(t *testing.T) {
	for _, good := range []string{"http://127.0.0.1:1/", "http://[::1]:65535/cb?x=1", "http://127.0.0.1:8080"} {
		if _, ok := parseLoopbackRedirect(good); !ok {
			t.Errorf("parseLoopbackRedirect(%q) refused a loopback URI", good)
		}
	}
}

// TestPKCES256 checks the challenge against RFC 7636 appendix B.
func TestPKCES256(t *testing.T) {
	const verifier, challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if got := pkceS256(verifier); got != challenge || !pkceChallengePattern.MatchString(got) || !pkceVerifierPattern.MatchString(verifier) {
		t.Errorf("pkceS256(%q) = %q, want %q", verifier, got, challenge)
	}
}

func TestNormalizeUserCode(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"BCDF-GHJK", "BCDFGHJK", true},
		{"bcdf ghjk", "BCDFGHJK", true},
		{"bcdfghjk", "BCDFGHJK", true},
		{"BCDF-GHJ", "", false},
		{"BCDF-GHJKL", "", false},
		{"ABCD-EFGH", "", false}, // vowels are never in a code
		{"BCDF-GHJ1", "", false},
		{"BCDF-GHJ\u212a", "", false}, // Kelvin sign upper-cases to K
		{strings.Repeat("B", 40), "", false},
	}
	for _, tt := range tests {
		got, ok := normalizeUserCode(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normalizeUserCode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
