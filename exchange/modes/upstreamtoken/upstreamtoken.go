// Package upstreamtoken is the "upstream-token" exchange mode: the
// upstream IdP's ID token goes to STS unchanged (the IdP itself is
// registered in IAM); fedgate has already validated and mapped it.
package upstreamtoken

import (
	"context"
	"fmt"

	"fedgate/exchange"
	"fedgate/exchange/modes/internal/assume"
)

// Name is the mode's name in a pool's configuration.
const Name = "upstream-token"

// Spec describes the mode. Session tags and a source identity would have
// to be claims in a token fedgate did not sign, so the mode carries none;
// a session policy still applies.
func Spec() exchange.ModeSpec {
	return exchange.ModeSpec{
		Name:          Name,
		Forwards:      exchange.ForwardIDToken,
		ProviderTypes: []string{"oidc"},
		Trust:         exchange.TrustUpstreamOIDC,
		New:           New,
	}
}

type mode struct {
	sts exchange.WebIdentitySTS
}

// New returns the mode over d's web-identity STS.
func New(d exchange.ModeDeps) exchange.Mode {
	return &mode{sts: d.WebIdentitySTS}
}

func (*mode) Name() string { return Name }

// Vend refuses requests carrying session tags or a source identity rather
// than silently losing them.
func (u *mode) Vend(ctx context.Context, req exchange.Request) (*exchange.Credentials, error) {
	if err := assume.CheckWebIdentity(req); err != nil {
		return nil, err
	}
	if req.UpstreamToken == "" {
		return nil, fmt.Errorf("%w: upstream-token mode needs the upstream ID token", exchange.ErrInvalidRequest)
	}
	if err := assume.RefuseTags(Name, req, "use gateway-token mode or have the IdP put them in its token"); err != nil {
		return nil, err
	}
	return assume.WebIdentity(ctx, u.sts, req, req.UpstreamToken)
}
