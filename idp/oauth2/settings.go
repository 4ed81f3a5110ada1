package oauth2

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"

	"fedgate/exchange/rules"
	"fedgate/idp"
	"fedgate/idp/settings"
)

// Type is the `oauth2` provider type.
func Type() idp.Type {
	return idp.Type{
		Name:    "oauth2",
		Title:   "OAuth 2.0",
		Summary: "An OAuth 2.0 authorization server that is not OpenID Connect (GitHub-style sign-in): authorization code with PKCE, then its userinfo endpoint supplies the claims. Browser and CLI sign-in only.",
		New:     func() idp.Config { return &Settings{} },
	}
}

// Token endpoint client authentication methods (RFC 7591 names).
const (
	authBasic = "client_secret_basic"
	authPost  = "client_secret_post"
	authNone  = "none"
)

// defaultSubjectClaim is where the subject is when subject_claim is unset.
const defaultSubjectClaim = "sub"

// Settings is an oauth2 provider's entry in the configuration.
type Settings struct {
	AuthorizationURL string `yaml:"authorization_url" json:"authorization_url,omitempty" label:"Authorization endpoint" help:"Where people are sent to sign in, e.g. https://github.com/login/oauth/authorize."`
	TokenURL         string `yaml:"token_url" json:"token_url,omitempty" label:"Token endpoint" help:"Where fedgate redeems the authorization code (with the client secret), e.g. https://github.com/login/oauth/access_token."`
	UserInfoURL      string `yaml:"userinfo_url" json:"userinfo_url,omitempty" label:"Userinfo endpoint" help:"Called with the access token; its JSON answer supplies the claims, e.g. https://api.github.com/user."`
	ClientID         string `yaml:"client_id" json:"client_id,omitempty" label:"Client id" help:"fedgate's client id at the authorization server, with redirect URI <public_url>/callback."`
	ClientSecret     string `yaml:"client_secret" json:"client_secret,omitempty" label:"Client secret" secret:"true" help:"The client secret; empty for a public client."`
	// TokenAuthMethod is how the client authenticates at the token
	// endpoint; empty picks client_secret_basic with a secret, none without.
	TokenAuthMethod string   `yaml:"token_auth_method" json:"token_auth_method,omitempty" label:"Token endpoint authentication" help:"client_secret_basic, client_secret_post or none (default: client_secret_basic with a secret, none without)."`
	Scopes          []string `yaml:"scopes" json:"scopes,omitempty" label:"Scopes" help:"Scopes asked for (default: none)."`
	SubjectClaim    string   `yaml:"subject_claim" json:"subject_claim,omitempty" label:"Subject claim" help:"Path in the userinfo JSON of the stable user id, e.g. id for GitHub (default: sub). Numbers become strings."`
	// Claims maps claim names to paths in the userinfo JSON; empty means
	// every top-level field is a claim.
	Claims map[string]string `yaml:"claims" json:"claims,omitempty" label:"Claims" help:"Claim name to path in the userinfo JSON (default: every top-level field)."`
	Issuer string            `yaml:"issuer" json:"issuer,omitempty" label:"Issuer" help:"The authorization server's issuer identifier, compared with the iss of its answers (RFC 9207). Set it if the server sends iss."`
}

// ApplyDefaults sets the subject claim left out.
func (s *Settings) ApplyDefaults(idp.Site) {
	if s.SubjectClaim == "" {
		s.SubjectClaim = defaultSubjectClaim
	}
}

// Validate reports every problem of the entry.
func (s *Settings) Validate(idp.Site) settings.Problems {
	var ps settings.Problems
	ps.CheckUpstreamURL("authorization_url", s.AuthorizationURL)
	ps.CheckUpstreamURL("token_url", s.TokenURL)
	ps.CheckUpstreamURL("userinfo_url", s.UserInfoURL)
	if s.ClientID == "" {
		ps.Add("client_id", "is required")
	}
	switch s.TokenAuthMethod {
	case "":
	case authBasic, authPost:
		if s.ClientSecret == "" {
			ps.Add("token_auth_method", "%s needs a client_secret", s.TokenAuthMethod)
		}
	case authNone:
		if s.ClientSecret != "" {
			ps.Add("token_auth_method", "none sends no client_secret: remove the secret or pick client_secret_basic or client_secret_post")
		}
	default:
		ps.Add("token_auth_method", "must be client_secret_basic, client_secret_post or none")
	}
	for j, scope := range s.Scopes {
		if !isScopeToken(scope) {
			ps.Add(fmt.Sprintf("scopes[%d]", j), "%q is not a scope (printable ASCII without spaces, quotes or backslashes)", scope)
		}
	}
	if s.SubjectClaim != "" { // empty is the default
		if _, err := rules.ParseClaimPath(s.SubjectClaim); err != nil {
			ps.Add("subject_claim", "%v", err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Claims)) {
		path, at := s.Claims[name], "claims."+name
		switch {
		case name == "":
			ps.Add("claims", "a claim name is empty")
		case name == "sub":
			ps.Add(at, "sub is always the subject: choose it with subject_claim")
		}
		if _, err := rules.ParseClaimPath(path); err != nil {
			ps.Add(at, "%v", err)
		}
	}
	if s.Issuer != "" {
		ps.CheckUpstreamURL("issuer", s.Issuer)
		if u, err := url.Parse(s.Issuer); err == nil && (u.RawQuery != "" || u.Fragment != "") {
			ps.Add("issuer", "must have no query or fragment (RFC 9207)")
		}
	}
	return ps
}

// Open builds the provider.
func (s *Settings) Open(_ context.Context, env idp.Env) (idp.Provider, error) {
	return New(Config{
		ID: env.ID, DisplayName: env.DisplayName,
		AuthorizationURL: s.AuthorizationURL, TokenURL: s.TokenURL, UserInfoURL: s.UserInfoURL,
		ClientID: s.ClientID, ClientSecret: s.ClientSecret, TokenAuthMethod: s.TokenAuthMethod,
		Scopes: s.Scopes, SubjectClaim: s.SubjectClaim, Claims: s.Claims,
	}, env.HTTP)
}

// IssuerURL is the authorization server's issuer identifier, when set: the
// sign-in callback compares an answer's iss with it (RFC 9207).
func (s *Settings) IssuerURL() string { return s.Issuer }

// SecretDestination is the token endpoint: the client secret goes there,
// so a stored secret must not follow a change of it.
func (s *Settings) SecretDestination() string { return s.TokenURL }

// isScopeToken reports whether s is a scope-token of RFC 6749 3.3.
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
			return false
		}
	}
	return true
}
