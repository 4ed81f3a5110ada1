package exchange

import (
	"context"
	"fmt"
)

// upstreamTokenMode passes the upstream IdP's ID token to STS unchanged; the
// IdP itself is registered in IAM. fedgate has already validated and mapped it.
type upstreamTokenMode struct {
	sts WebIdentitySTS
}

// NewUpstreamTokenMode returns the "upstream-token" mode. Session tags and
// source identity cannot be added in this mode (they would have to be claims
// in a token fedgate did not sign), so requests carrying them are refused
// rather than silently losing them; a session policy still applies.
func NewUpstreamTokenMode(sts WebIdentitySTS) Mode {
	return &upstreamTokenMode{sts: sts}
}

func (*upstreamTokenMode) Name() string { return "upstream-token" }

func (u *upstreamTokenMode) Vend(ctx context.Context, req Request) (*Credentials, error) {
	if err := checkRoleRequest(req); err != nil {
		return nil, err
	}
	if req.UpstreamToken == "" {
		return nil, fmt.Errorf("%w: upstream-token mode needs the upstream ID token", ErrInvalidRequest)
	}
	if len(req.Tags) > 0 || len(req.TransitiveTagKeys) > 0 || req.SourceIdentity != "" {
		return nil, fmt.Errorf("%w: upstream-token mode cannot add session tags or a source identity; "+
			"use gateway-token mode or have the IdP put them in its token", ErrInvalidRequest)
	}
	return assume(ctx, u.sts, req, req.UpstreamToken)
}
