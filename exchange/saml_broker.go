package exchange

import (
	"context"
	"fmt"

	"fedgate/exchange/samlbroker"
)

// AWSAssertionSigner signs fedgate's own SAML response for AWS;
// *samlbroker.IdP implements it.
type AWSAssertionSigner interface {
	SignAWSResponse(ctx context.Context, a samlbroker.Assertion) (string, error)
}

// samlBrokerMode is fedgate as a SAML IdP registered in IAM: whatever the
// upstream was (OIDC or SAML), it signs a response naming only the mapped
// role and calls AssumeRoleWithSAML with it.
type samlBrokerMode struct {
	signer AWSAssertionSigner
	sts    SAMLSTS
}

// NewSAMLBrokerMode returns the "saml-broker" mode.
func NewSAMLBrokerMode(signer AWSAssertionSigner, sts SAMLSTS) Mode {
	return &samlBrokerMode{signer: signer, sts: sts}
}

func (*samlBrokerMode) Name() string { return "saml-broker" }

func (m *samlBrokerMode) Vend(ctx context.Context, req Request) (*Credentials, error) {
	if err := checkSAMLRequest(req); err != nil {
		return nil, err
	}
	if req.IdentityID == "" || req.SessionName == "" {
		return nil, fmt.Errorf("%w: identity id and session name are required", ErrInvalidRequest)
	}
	if m.signer == nil {
		return nil, fmt.Errorf("%w: the SAML broker has no signing key", ErrInvalidRequest)
	}
	assertion, err := m.signer.SignAWSResponse(ctx, samlbroker.Assertion{
		Subject:           req.IdentityID,
		RoleARN:           req.RoleARN,
		ProviderARN:       req.SAMLProviderARN,
		SessionName:       req.SessionName,
		SessionDuration:   req.Duration,
		Tags:              req.Tags,
		TransitiveTagKeys: req.TransitiveTagKeys,
		SourceIdentity:    req.SourceIdentity,
	})
	if err != nil {
		return nil, fmt.Errorf("exchange: sign SAML response: %w", err)
	}
	return assumeSAML(ctx, m.sts, req, assertion)
}
