package idp

import (
	"context"
	"fmt"
	"time"
)

// AssertionRef names a verified assertion for whoever keeps its replay
// record: its ID, its issuer, and the moment after which no check of this
// provider would accept it any more.
type AssertionRef struct {
	ID     string
	Issuer string
	Until  time.Time
}

// ReusableAssertionLogin is implemented by providers whose unsolicited
// responses an app may present more than once for one use, as the AWS
// SDKs send the same Cognito Logins to GetId and then to
// GetCredentialsForIdentity. The provider records nothing: the caller
// binds the returned AssertionRef to what the response was first used for
// and refuses any other use (gateway/cognito_saml.go).
type ReusableAssertionLogin interface {
	// VerifyUnsolicited runs every check of ConsumeResponse with no
	// pending request (so the provider must allow IdP-initiated
	// responses, and a response answering an AuthnRequest is refused),
	// except the replay cache.
	VerifyUnsolicited(ctx context.Context, samlResponse string) (*Identity, AssertionRef, error)
}

var _ ReusableAssertionLogin = (*SAML)(nil)

// VerifyUnsolicited implements ReusableAssertionLogin.
func (s *SAML) VerifyUnsolicited(ctx context.Context, samlResponse string) (*Identity, AssertionRef, error) {
	assertion, err := s.checkResponse(ctx, samlResponse, nil, false)
	if err != nil {
		return nil, AssertionRef{}, err
	}
	if assertion.ID == "" {
		return nil, AssertionRef{}, fmt.Errorf("%w: assertion has no ID", ErrInvalidToken)
	}
	ref := AssertionRef{ID: assertion.ID, Issuer: assertion.Issuer.Value, Until: s.replayUntil(assertion)}
	return s.identity(assertion, samlResponse), ref, nil
}
