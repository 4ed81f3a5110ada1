package cognito

import "testing"

func TestIssuerLoginKey(t *testing.T) {
	tests := []struct{ issuer, want string }{
		{"https://accounts.google.com", "accounts.google.com"},
		{"https://accounts.google.com/", "accounts.google.com"},
		{"https://login.example.com/realms/corp", "login.example.com/realms/corp"},
		{"https://login.example.com:8443/x/", "login.example.com:8443/x"},
		{"http://127.0.0.1:4000", "127.0.0.1:4000"},
		{"ftp://example.com", ""},
		{"not a url", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := issuerLoginKey(tt.issuer); got != tt.want {
			t.Errorf("issuerLoginKey(%q) = %q, want %q", tt.issuer, got, tt.want)
		}
	}
}
