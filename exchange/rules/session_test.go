package rules

import (
	"regexp"
	"strings"
	"testing"
)

func TestSessionName(t *testing.T) {
	valid := regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	tests := []struct {
		in, want string
	}{
		{"ada@example.com", "ada@example.com"},
		{"Ada Lovelace", "Ada-Lovelace"},
		{"józef", "j-zef"},
		{"日本", "--"},
		{"a", "fedgate-a"},
		{"", "fedgate-"},
		{"é", "fedgate--"},
		{"bad\xffbyte", "bad-byte"},
		{"a/b:c;d", "a-b-c-d"},
		{"keep+=,.@-_", "keep+=,.@-_"},
		{strings.Repeat("x", 70), strings.Repeat("x", 64)},
		{strings.Repeat("é", 70), strings.Repeat("-", 64)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := SessionName(tt.in)
			if got != tt.want {
				t.Errorf("SessionName(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !valid.MatchString(got) {
				t.Errorf("SessionName(%q) = %q is not a valid RoleSessionName", tt.in, got)
			}
			if again := SessionName(tt.in); again != got {
				t.Errorf("not deterministic: %q then %q", got, again)
			}
		})
	}
}

func FuzzSessionName(f *testing.F) {
	f.Add("ada@example.com")
	f.Add("日本語")
	f.Add("")
	valid := regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	f.Fuzz(func(t *testing.T, s string) {
		if got := SessionName(s); !valid.MatchString(got) {
			t.Fatalf("SessionName(%q) = %q", s, got)
		}
	})
}
