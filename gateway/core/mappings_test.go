package core

import (
	"context"
	"testing"

	"fedgate/gateway/config"
	"fedgate/idp"
	oidcidp "fedgate/idp/oidc"
	samlidp "fedgate/idp/saml"
	"fedgate/idp/settings"
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

// tokenURLSettings is a provider type whose secret goes to a token
// endpoint of its own, not to an issuer.
type tokenURLSettings struct {
	TokenURL     string `json:"token_url,omitempty"`
	ClientSecret string `json:"client_secret,omitempty" secret:"true"`
}

func (*tokenURLSettings) ApplyDefaults(idp.Site)                              {}
func (*tokenURLSettings) Validate(idp.Site) settings.Problems                 { return nil }
func (*tokenURLSettings) Open(context.Context, idp.Env) (idp.Provider, error) { return nil, nil }
func (s *tokenURLSettings) SecretDestination() string                         { return s.TokenURL }

// TestKeepSecretsFollowsSecretDestination: a type that names where its
// secret goes keeps the stored secret only while that stays the same.
func TestKeepSecretsFollowsSecretDestination(t *testing.T) {
	with := func(tokenURL, secret string) *config.Provider {
		return &config.Provider{ID: "p", Type: "token-url", Settings: &tokenURLSettings{TokenURL: tokenURL, ClientSecret: secret}}
	}
	stored := with("https://a.example/token", "stored")
	tests := []struct {
		name, tokenURL, secret, prob string
	}{
		{"same token endpoint keeps the secret", "https://a.example/token", "stored", ""},
		{"new token endpoint needs it again", "https://evil.example/token", "", "x.client_secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := with(tt.tokenURL, SecretPlaceholder)
			ps := KeepSecrets(next, stored, "x.")
			if got := next.Settings.(*tokenURLSettings).ClientSecret; got != tt.secret {
				t.Errorf("client_secret %q, want %q", got, tt.secret)
			}
			if (tt.prob == "") != (len(ps) == 0) || (tt.prob != "" && ps[0].Path != tt.prob) {
				t.Errorf("problems %v, want %q", ps, tt.prob)
			}
		})
	}
}
