package core

import (
	"encoding/base64"
	"testing"
)

func TestUnverifiedIssuer(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://idp.example.com","sub":"alice"}`))
	for _, tc := range []struct {
		name, token, want string
	}{
		{"three parts", "h." + payload + ".s", "https://idp.example.com"},
		{"empty signature", "h." + payload + ".", "https://idp.example.com"},
		{"two parts", "h." + payload, ""},
		{"four parts", "h." + payload + ".s.x", ""},
		{"one part", payload, ""},
		{"payload not base64url", "h.!!!.s", ""},
		{"payload not JSON", "h." + base64.RawURLEncoding.EncodeToString([]byte("iss")) + ".s", ""},
		{"no iss", "h." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"alice"}`)) + ".s", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := UnverifiedIssuer(tc.token); got != tc.want {
				t.Fatalf("UnverifiedIssuer = %q, want %q", got, tc.want)
			}
		})
	}
}
