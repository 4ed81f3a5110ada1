package cognito

import (
	"context"
	"errors"
	"fmt"

	"fedgate/gateway/core"
	"fedgate/idp"
)

// samlLoginMethod lets a SAML provider take part in Cognito Logins, as in
// Cognito: the key is the pool's IAM SAML provider ARN (saml_provider_arn)
// and the value the base64 SAML response. fedgate did not start that
// sign-in, so the provider must allow IdP-initiated responses; signature,
// audience, recipient and time window apply as on the ACS. The replay
// cache applies as a binding (bindAssertions): the AWS SDKs send the same
// Logins to GetId and then to GetCredentialsForIdentity, so an assertion
// may come back for the identity it was first used for, and for nothing
// else. With several SAML providers in one pool, the first one in the
// pool's list answers for the key.
func samlLoginMethod(pool *core.Pool, p *core.Provider) (loginMethod, bool) {
	rl, ok := p.Provider.(idp.ReusableAssertionLogin)
	if _, saml := p.Provider.(idp.AssertionLogin); !ok || !saml || pool.Cfg.SAMLProviderARN == "" {
		return loginMethod{}, false
	}
	for _, other := range pool.Providers {
		if other == p {
			break
		}
		if _, earlier := other.Provider.(idp.AssertionLogin); earlier {
			return loginMethod{}, false
		}
	}
	return loginMethod{key: pool.Cfg.SAMLProviderARN, verify: func(ctx context.Context, raw string) (*idp.Identity, *idp.AssertionRef, error) {
		ident, ref, err := rl.VerifyUnsolicited(ctx, raw)
		if err != nil {
			return nil, nil, err
		}
		return ident, &ref, nil
	}}, true
}

// samlLoginError maps a refused SAML login to the SDK's error types.
func samlLoginError(err error) *core.Error {
	if e := core.FromRefusedUpstream(err); e != nil {
		return apiError(ErrExternalService, e.Message, err)
	}
	switch {
	case errors.Is(err, idp.ErrExpiredToken):
		return apiError(ErrNotAuthorized, "Invalid login token. The SAML response has expired.", err)
	case errors.Is(err, idp.ErrUpstream):
		return apiError(ErrExternalService, "The identity provider could not be reached. Try again in a moment.", err)
	case errors.Is(err, idp.ErrTooLarge):
		return apiError(ErrInvalidParameter, "The SAML response is too large.", err)
	case errors.Is(err, idp.ErrReplay):
		return apiError(ErrNotAuthorized, "Invalid login token. The SAML response was already used.", err)
	default:
		return apiError(ErrNotAuthorized, "Invalid login token. The SAML response is not valid for this identity pool.", err)
	}
}

// assertionsFree refuses, before GetId makes an identity, SAML logins
// whose assertion is already spent at the ACS or bound in another pool.
// bindAssertions decides atomically; this only keeps a replay from
// leaving an identity behind.
func (api *API) assertionsFree(ctx context.Context, pool *core.Pool, logins []verifiedLogin) *core.Error {
	for _, l := range logins {
		if l.assertion == nil {
			continue
		}
		if err := api.core.CognitoAssertionFree(ctx, pool.Cfg.ID, l.provider.Cfg.ID, l.assertion.ID); err != nil {
			if errors.Is(err, idp.ErrReplay) {
				return samlLoginError(err)
			}
			return apiError(ErrInternalError, "An internal error occurred.", fmt.Errorf("saml replay cache: %w", err))
		}
	}
	return nil
}

// bindAssertions binds each SAML login's assertion to (pool, identity)
// until the provider would refuse it anyway: the first use records the
// binding, the same binding again is the same use, anything else is a
// replay.
func (api *API) bindAssertions(ctx context.Context, pool *core.Pool, identityID string, logins []verifiedLogin) *core.Error {
	want := core.CognitoBinding(pool.Cfg.ID, identityID)
	for _, l := range logins {
		if l.assertion == nil {
			continue
		}
		if err := api.core.BindAssertion(ctx, l.provider.Cfg.ID, *l.assertion, want); err != nil {
			if errors.Is(err, idp.ErrReplay) {
				return samlLoginError(err)
			}
			return apiError(ErrInternalError, "An internal error occurred.", fmt.Errorf("saml replay cache: %w", err))
		}
	}
	return nil
}
