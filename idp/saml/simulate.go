package saml

import (
	"context"

	"fedgate/idp"
)

var _ idp.AssertionVerifier = (*Provider)(nil)

// VerifyResponse implements idp.AssertionVerifier. A response that answers an
// AuthnRequest (InResponseTo set) is checked as the answer to a pending
// request: simulate has no flow of its own, and the request it answered
// may be long gone. An unsolicited response is accepted only when the
// provider allows IdP-initiated sign-in, as at the ACS. The signature,
// issuer, audience, destination, recipient, time window and the shape
// checks all apply: paste a response within its validity window.
func (s *Provider) VerifyResponse(ctx context.Context, samlResponse string) (*idp.Identity, error) {
	assertion, err := s.checkResponse(ctx, samlResponse, nil, true)
	if err != nil {
		return nil, err
	}
	return s.identity(assertion, samlResponse), nil
}
