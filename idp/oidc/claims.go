package oidc

import (
	"fmt"

	"fedgate/exchange/jwtclaims"
	"fedgate/idp"
)

// idClaims are the registered claims of a verified payload, all read from
// the one decoding that also yields the claims the rules see.
type idClaims = jwtclaims.Registered

// decodeClaims decodes a signature-verified payload into its claims and
// registered claims (jwtclaims refuses duplicates and case-folded twins of
// registered claims). Every failure wraps idp.ErrInvalidToken.
func decodeClaims(payload []byte) (map[string]any, *idClaims, error) {
	claims, reg, err := jwtclaims.Decode(payload)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", idp.ErrInvalidToken, err)
	}
	if err := idp.CheckSubject(reg.Subject); err != nil {
		return nil, nil, err
	}
	return claims, reg, nil
}
