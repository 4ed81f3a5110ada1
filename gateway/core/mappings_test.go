package core

import (
	"testing"

	"fedgate/gateway/config"
	oidcidp "fedgate/idp/oidc"
	samlidp "fedgate/idp/saml"
)

// TestKeepSecrets: which stored secrets a placeholder keeps.
func TestKeepSecrets(t *testing.T) {
	const ph = SecretPlaceholder
	oidcWith := func(issuer, secret string) config.Provider {
		return config.Provider{ID: "p", Type: config.ProviderOIDC, Settings: &oidcidp.Settings{Issuer: issuer, ClientSecret: secret}}
	}
	samlWith := func(key string) config.Provider {
		return config.Provider{ID: "p", Type: config.ProviderSAML, Settings: &samlidp.Settings{SPKey: key, SPCertificate: "cert"}}
	}
	stored, storedSAML := oidcWith("https://a.example", "stored"), samlWith("stored-key")
	secretOf := func(p config.Provider) (string, string) {
		switch s := p.Settings.(type) {
		case *oidcidp.Settings:
			return s.ClientSecret, ""
		case *samlidp.Settings:
			return "", s.SPKey
		}
		return "", ""
	}
	tests := []struct {
		name              string
		old               *config.Provider
		next              config.Provider
		secret, key, prob string
	}{
		{"new provider: the placeholder is no secret", nil, oidcWith("https://a.example", ph), "", "", ""},
		{"same issuer keeps the secret", &stored, oidcWith("https://a.example", ph), "stored", "", ""},
		{"a new secret replaces it", &stored, oidcWith("https://a.example", "new"), "new", "", ""},
		{"empty removes it", &stored, oidcWith("https://a.example", ""), "", "", ""},
		{"new issuer needs it again", &stored, oidcWith("https://b.example", ph), "", "", "x.client_secret"},
		{"new issuer with a new secret", &stored, oidcWith("https://b.example", "new"), "new", "", ""},
		{"new issuer, none was stored", &config.Provider{ID: "p", Type: config.ProviderOIDC, Settings: &oidcidp.Settings{Issuer: "https://a.example"}},
			oidcWith("https://b.example", ph), "", "", ""},
		{"another type drops the secret", &stored, samlWith(ph), "", "", ""},
		{"a saml provider keeps its key", &storedSAML, samlWith(ph), "", "stored-key", ""},
		{"a new key replaces it", &storedSAML, samlWith("new-key"), "", "new-key", ""},
		{"another type drops the key", &storedSAML, oidcWith("https://a.example", ph), "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := tt.next.Clone()
			ps := KeepSecrets(&next, tt.old, "x.")
			if secret, key := secretOf(next); secret != tt.secret || key != tt.key {
				t.Errorf("client_secret %q sp_key %q, want %q %q", secret, key, tt.secret, tt.key)
			}
			switch {
			case tt.prob == "" && len(ps) > 0:
				t.Errorf("problems %v, want none", ps)
			case tt.prob != "" && (len(ps) != 1 || ps[0].Path != tt.prob):
				t.Errorf("problems %v, want one at %s", ps, tt.prob)
			}
		})
	}
}
