package core

import (
	"encoding/base64"
	"encoding/json"
	"fedgate/exchange"
	"fedgate/gateway/wire"
	"fedgate/idp"
	"net/http"
	"strings"
	"time"
)

// maxBearerBytes bounds a presented token before any parsing (STS itself
// takes at most 20000 characters).
const MaxTokenBytes = 20000

// TokenProvider picks the pool's provider that should verify the token:
// the one named, or the one whose issuer the token claims (the claim is
// only a hint here; verification checks it).
func TokenProvider(pool *Pool, named, token string) (*Provider, *Error) {
	if named != "" {
		p := pool.Provider(named)
		if p == nil {
			return nil, Errorf(http.StatusBadRequest, CodeUnknownProvider, "The pool does not accept the provider %q.", Truncate(named, 64))
		}
		if _, ok := p.Provider.(idp.TokenVerifier); !ok {
			return nil, Errorf(http.StatusBadRequest, CodeUnknownProvider, "The provider %q does not accept bearer tokens.", named)
		}
		return p, nil
	}
	iss := UnverifiedIssuer(token)
	for _, p := range pool.Providers {
		if _, ok := p.Provider.(idp.TokenVerifier); ok && iss != "" && strings.TrimRight(p.Cfg.Issuer(), "/") == strings.TrimRight(iss, "/") {
			return p, nil
		}
	}
	return nil, Errorf(http.StatusUnauthorized, CodeInvalidToken, "The token's issuer is not an identity provider of this pool.")
}

// UnverifiedIssuer reads iss from a JWT payload without trusting it.
func UnverifiedIssuer(token string) string {
	_, rest, ok := strings.Cut(token, ".")
	part, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(sig, ".") {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return ""
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Iss
}

// samlAPIProvider is the named SAML provider of the pool, or its only one.
func SAMLProviderOf(pool *Pool, named string) (*Provider, *Error) {
	var found []*Provider
	for _, p := range pool.Providers {
		if _, ok := p.Provider.(idp.AssertionLogin); ok && (named == "" || p.Cfg.ID == named) {
			found = append(found, p)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case named != "":
		return nil, Errorf(http.StatusBadRequest, CodeUnknownProvider, "The pool does not accept the SAML provider %q.", Truncate(named, 64))
	case len(found) == 0:
		return nil, Errorf(http.StatusBadRequest, CodeUnknownProvider, "The pool accepts no SAML identity provider.")
	default:
		return nil, Errorf(http.StatusBadRequest, CodeUnknownProvider, "The pool accepts several SAML identity providers; name one with provider.")
	}
}

// WireCredentials is the JSON form of vended credentials.
func WireCredentials(c *exchange.Credentials, identityID string) wire.Credentials {
	return wire.Credentials{
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Expiration: c.Expiration.UTC().Format(time.RFC3339), RoleARN: c.RoleARN, AssumedRoleARN: c.AssumedRoleARN,
		IdentityID: identityID,
	}
}
