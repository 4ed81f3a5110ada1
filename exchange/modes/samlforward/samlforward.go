// Package samlforward is the "saml-forward" exchange mode: the upstream
// IdP's own SAML response goes to STS. The IdP is registered in IAM as a
// SAML provider and its Role attribute already names the role (the
// gateway has narrowed that list with the pool's rules).
package samlforward

import (
	"context"
	"fmt"

	"fedgate/exchange"
	"fedgate/exchange/modes/internal/assume"
)

// Name is the mode's name in a pool's configuration.
const Name = "saml-forward"

// The AWS contract bounds SAMLAssertion to 4..100000 characters.
const (
	minSAMLAssertion = 4
	maxSAMLAssertion = 100000
)

// Spec describes the mode. As in upstream-token mode fedgate cannot add
// session tags or a source identity to a response it did not sign, and
// STS assumes only a role the response's Role attribute offers.
func Spec() exchange.ModeSpec {
	return exchange.ModeSpec{
		Name:              Name,
		Forwards:          exchange.ForwardSAMLResponse,
		ProviderTypes:     []string{"saml"},
		SAMLProvider:      true,
		NarrowToAssertion: true,
		Trust:             exchange.TrustSAMLProvider,
		New:               New,
	}
}

type mode struct {
	sts exchange.SAMLSTS
}

// New returns the mode over d's SAML STS.
func New(d exchange.ModeDeps) exchange.Mode { return &mode{sts: d.SAMLSTS} }

func (*mode) Name() string { return Name }

// Vend refuses requests carrying session tags or a source identity rather
// than silently losing them.
func (m *mode) Vend(ctx context.Context, req exchange.Request) (*exchange.Credentials, error) {
	if err := assume.CheckSAML(req); err != nil {
		return nil, err
	}
	if n := len(req.UpstreamToken); n < minSAMLAssertion || n > maxSAMLAssertion {
		return nil, fmt.Errorf("%w: saml-forward mode needs the upstream SAML response (4..100000 characters, got %d)", exchange.ErrInvalidRequest, n)
	}
	if err := assume.RefuseTags(Name, req, "use saml-broker mode or have the IdP put them in its assertion"); err != nil {
		return nil, err
	}
	return assume.SAML(ctx, m.sts, req, req.UpstreamToken)
}
