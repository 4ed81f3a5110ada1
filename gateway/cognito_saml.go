package gateway

import (
	"context"
	"errors"

	"fedgate/idp"
)

// samlLoginMethod lets a SAML provider take part in Cognito Logins, as in
// Cognito: the key is the pool's IAM SAML provider ARN (saml_provider_arn)
// and the value the base64 SAML response. fedgate did not start that
// sign-in, so the provider must allow IdP-initiated responses; signature,
// audience, recipient, time window and the replay cache apply as on the
// ACS. With several SAML providers in one pool, the first one in the
// pool's list answers for the key.
func samlLoginMethod(pool *livePool, p *liveProvider) (loginMethod, bool) {
	al, ok := p.Provider.(idp.AssertionLogin)
	if !ok || pool.cfg.SAMLProviderARN == "" {
		return loginMethod{}, false
	}
	for _, other := range pool.providers {
		if other == p {
			break
		}
		if _, earlier := other.Provider.(idp.AssertionLogin); earlier {
			return loginMethod{}, false
		}
	}
	return loginMethod{key: pool.cfg.SAMLProviderARN, verify: func(ctx context.Context, raw string) (*idp.Identity, error) {
		return al.ConsumeResponse(ctx, raw, nil)
	}}, true
}

// samlLoginError maps a refused SAML login to the SDK's error types.
func samlLoginError(err error) *Error {
	switch {
	case errors.Is(err, idp.ErrExpiredToken):
		return cogError(cogNotAuthorized, "Invalid login token. The SAML response has expired.", err)
	case errors.Is(err, idp.ErrUpstream):
		return cogError(cogExternalService, "The identity provider could not be reached. Try again in a moment.", err)
	case errors.Is(err, idp.ErrTooLarge):
		return cogError(cogInvalidParameter, "The SAML response is too large.", err)
	default:
		return cogError(cogNotAuthorized, "Invalid login token. The SAML response is not valid for this identity pool.", err)
	}
}
