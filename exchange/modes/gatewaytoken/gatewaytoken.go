// Package gatewaytoken is the "gateway-token" exchange mode, Cognito's
// enhanced flow: fedgate mints a token as its own OIDC issuer and assumes
// the role with it.
package gatewaytoken

import (
	"context"
	"fmt"

	"fedgate/exchange"
	"fedgate/exchange/issuer"
	"fedgate/exchange/modes/internal/assume"
)

// Name is the mode's name in a pool's configuration.
const Name = "gateway-token"

// Spec describes the mode. fedgate signs the token STS reads, so it can
// carry session tags and a source identity, and guests get a token of
// their own audience.
func Spec() exchange.ModeSpec {
	return exchange.ModeSpec{
		Name:        Name,
		Forwards:    exchange.ForwardNothing,
		SessionTags: true,
		Guests:      true,
		Trust:       exchange.TrustGatewayOIDC,
		New:         New,
	}
}

type mode struct {
	minter exchange.Minter
	sts    exchange.WebIdentitySTS
}

// New returns the mode over d's minter and web-identity STS.
func New(d exchange.ModeDeps) exchange.Mode {
	return &mode{minter: d.Minter, sts: d.WebIdentitySTS}
}

func (*mode) Name() string { return Name }

func (g *mode) Vend(ctx context.Context, req exchange.Request) (*exchange.Credentials, error) {
	if err := assume.CheckWebIdentity(req); err != nil {
		return nil, err
	}
	if req.Audience == "" || req.IdentityID == "" {
		return nil, fmt.Errorf("%w: audience and identity id are required", exchange.ErrInvalidRequest)
	}
	token, err := g.minter.Mint(ctx, issuer.Token{
		Issuer:            req.IssuerURL,
		Subject:           req.IdentityID,
		Audience:          req.Audience,
		AMR:               req.AMR,
		Tags:              req.Tags,
		TransitiveTagKeys: req.TransitiveTagKeys,
		SourceIdentity:    req.SourceIdentity,
	})
	if err != nil {
		return nil, fmt.Errorf("exchange: mint token: %w", err)
	}
	return assume.WebIdentity(ctx, g.sts, req, token)
}
