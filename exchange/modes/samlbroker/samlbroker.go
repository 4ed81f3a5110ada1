// Package samlbroker is the "saml-broker" exchange mode: fedgate, as a
// SAML IdP registered in IAM, signs a response naming only the mapped
// role, whatever the upstream was (OIDC or SAML), and assumes the role
// with it.
package samlbroker

import (
	"context"
	"fmt"

	"fedgate/exchange"
	"fedgate/exchange/modes/internal/assume"
	brokeridp "fedgate/exchange/samlbroker"
)

// Name is the mode's name in a pool's configuration.
const Name = "saml-broker"

// Spec describes the mode. fedgate signs the response, so it carries
// session tags and a source identity; every broker response has the same
// issuer and key, so each pool needs an IAM SAML provider of its own.
func Spec() exchange.ModeSpec {
	return exchange.ModeSpec{
		Name:            Name,
		Forwards:        exchange.ForwardNothing,
		SessionTags:     true,
		SAMLProvider:    true,
		OwnSAMLProvider: true,
		Trust:           exchange.TrustSAMLProvider,
		New:             New,
	}
}

type mode struct {
	signer exchange.AWSAssertionSigner
	sts    exchange.SAMLSTS
}

// New returns the mode over d's broker signer and SAML STS.
func New(d exchange.ModeDeps) exchange.Mode {
	return &mode{signer: d.Signer, sts: d.SAMLSTS}
}

func (*mode) Name() string { return Name }

func (m *mode) Vend(ctx context.Context, req exchange.Request) (*exchange.Credentials, error) {
	if err := assume.CheckSAML(req); err != nil {
		return nil, err
	}
	if req.IdentityID == "" || req.SessionName == "" {
		return nil, fmt.Errorf("%w: identity id and session name are required", exchange.ErrInvalidRequest)
	}
	if m.signer == nil {
		return nil, fmt.Errorf("%w: the SAML broker has no signing key", exchange.ErrInvalidRequest)
	}
	assertion, err := m.signer.SignAWSResponse(ctx, brokeridp.Assertion{
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
	return assume.SAML(ctx, m.sts, req, assertion)
}
