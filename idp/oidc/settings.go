package oidc

import (
	"context"
	"fmt"

	"fedgate/idp"
	"fedgate/idp/settings"
)

// Type is the `oidc` provider type.
func Type() idp.Type {
	return idp.Type{
		Name:    "oidc",
		Title:   "OpenID Connect",
		Summary: "An OpenID Connect provider: sign-in with the authorization code flow and PKCE; apps may present its ID tokens.",
		New:     func() idp.Config { return &Settings{} },
	}
}

// Settings is an oidc provider's entry in the configuration.
type Settings struct {
	Issuer       string   `yaml:"issuer" json:"issuer,omitempty" label:"Issuer URL" help:"The IdP's issuer URL; its discovery document is at <issuer>/.well-known/openid-configuration."`
	ClientID     string   `yaml:"client_id" json:"client_id,omitempty" label:"Client id" help:"fedgate's client id at the IdP, with redirect URI <public_url>/callback."`
	ClientSecret string   `yaml:"client_secret" json:"client_secret,omitempty" label:"Client secret" secret:"true" help:"The client secret; empty for a public client."`
	Scopes       []string `yaml:"scopes" json:"scopes,omitempty" label:"Scopes" help:"Scopes asked for (default: openid profile email)."`
	// AllowedAlgorithms is the explicit allow-list of ID-token signing
	// algorithms; "none" and HS* are never allowed.
	AllowedAlgorithms []string           `yaml:"allowed_algorithms" json:"allowed_algorithms,omitempty" label:"Allowed signature algorithms" help:"ID-token signature algorithms accepted (default: RS256 ES256)."`
	UserInfo          bool               `yaml:"userinfo" json:"userinfo,omitempty" label:"Merge claims from the userinfo endpoint" help:"Merge the userinfo endpoint's claims (ID-token claims win)."`
	ExtraAudiences    []string           `yaml:"extra_audiences" json:"extra_audiences,omitempty" label:"Extra audiences" help:"Client ids of apps whose ID tokens the API accepts."`
	ClockSkew         *settings.Duration `yaml:"clock_skew" json:"clock_skew,omitempty" label:"Clock skew" help:"Clock skew tolerated on token times (0 to 5m; default 1m)."`
}

// ApplyDefaults sets the clock skew and scopes left out.
func (s *Settings) ApplyDefaults(idp.Site) {
	if s.ClockSkew == nil {
		d := settings.Duration(defaultClockSkew)
		s.ClockSkew = &d
	}
	if len(s.Scopes) == 0 {
		s.Scopes = []string{"openid", "profile", "email"}
	}
}

// Validate reports every problem of the entry.
func (s *Settings) Validate(idp.Site) settings.Problems {
	var ps settings.Problems
	ps.CheckUpstreamURL("issuer", s.Issuer)
	if s.ClientID == "" {
		ps.Add("client_id", "is required")
	}
	for j, alg := range s.AllowedAlgorithms {
		if !isAsymmetricAlgorithm(alg) {
			ps.Add(keyAt("allowed_algorithms", j), "%q is not an allowed asymmetric signing algorithm", alg)
		}
	}
	ps.CheckClockSkew("clock_skew", s.ClockSkew)
	return ps
}

// Open builds the provider; discovery happens lazily on first use.
func (s *Settings) Open(ctx context.Context, env idp.Env) (idp.Provider, error) {
	return New(ctx, Config{
		ID: env.ID, DisplayName: env.DisplayName, Issuer: s.Issuer,
		ClientID: s.ClientID, ClientSecret: s.ClientSecret, Scopes: s.Scopes,
		AllowedAlgorithms: s.AllowedAlgorithms, UserInfo: s.UserInfo,
		ExtraAudiences: s.ExtraAudiences, ClockSkew: settings.DurationOr(s.ClockSkew, defaultClockSkew),
	}, env.HTTP, env.Now)
}

// IssuerURL is the IdP's issuer.
func (s *Settings) IssuerURL() string { return s.Issuer }

// Client is fedgate's client id at the IdP.
func (s *Settings) Client() string { return s.ClientID }

func keyAt(key string, i int) string { return fmt.Sprintf("%s[%d]", key, i) }
