package saml

import (
	"context"
	"fmt"

	"fedgate/idp"
)

var _ idp.ReusableAssertionLogin = (*Provider)(nil)

// VerifyUnsolicited implements idp.ReusableAssertionLogin.
func (s *Provider) VerifyUnsolicited(ctx context.Context, samlResponse string) (*idp.Identity, idp.AssertionRef, error) {
	assertion, err := s.checkResponse(ctx, samlResponse, nil, false)
	if err != nil {
		return nil, idp.AssertionRef{}, err
	}
	if assertion.ID == "" {
		return nil, idp.AssertionRef{}, fmt.Errorf("%w: assertion has no ID", idp.ErrInvalidToken)
	}
	ref := idp.AssertionRef{ID: assertion.ID, Issuer: assertion.Issuer.Value, Until: s.replayUntil(assertion)}
	return s.identity(assertion, samlResponse), ref, nil
}
