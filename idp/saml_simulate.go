package idp

import "context"

// AssertionVerifier is implemented by providers that can check a posted
// assertion without consuming it, for the admin's simulate.
type AssertionVerifier interface {
	// VerifyResponse runs every check of ConsumeResponse except the replay
	// cache, and returns the identity the response vouches for. Nothing is
	// recorded, so a response that was simulated still works once at the
	// ACS, and one already used still simulates.
	VerifyResponse(ctx context.Context, samlResponse string) (*Identity, error)
}

var _ AssertionVerifier = (*SAML)(nil)

// VerifyResponse implements AssertionVerifier. A response that answers an
// AuthnRequest (InResponseTo set) is checked as the answer to a pending
// request: simulate has no flow of its own, and the request it answered
// may be long gone. An unsolicited response is accepted only when the
// provider allows IdP-initiated sign-in, as at the ACS. The signature,
// issuer, audience, destination, recipient, time window and the shape
// checks all apply: paste a response within its validity window.
func (s *SAML) VerifyResponse(ctx context.Context, samlResponse string) (*Identity, error) {
	assertion, err := s.checkResponse(ctx, samlResponse, nil, true)
	if err != nil {
		return nil, err
	}
	return s.identity(assertion, samlResponse), nil
}
