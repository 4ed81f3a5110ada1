package exchange

import (
	"context"
	"fmt"

	"fedgate/exchange/issuer"
)

// Minter mints fedgate's own tokens; *issuer.Issuer implements it.
type Minter interface {
	Mint(ctx context.Context, t issuer.Token) (string, error)
}

// gatewayTokenMode is Cognito's enhanced flow: fedgate mints a token as its
// own OIDC issuer and assumes the role with it.
type gatewayTokenMode struct {
	minter Minter
	sts    WebIdentitySTS
}

// NewGatewayTokenMode returns the "gateway-token" mode.
func NewGatewayTokenMode(m Minter, sts WebIdentitySTS) Mode {
	return &gatewayTokenMode{minter: m, sts: sts}
}

func (*gatewayTokenMode) Name() string { return "gateway-token" }

func (g *gatewayTokenMode) Vend(ctx context.Context, req Request) (*Credentials, error) {
	if err := checkRoleRequest(req); err != nil {
		return nil, err
	}
	if req.Audience == "" || req.IdentityID == "" {
		return nil, fmt.Errorf("%w: audience and identity id are required", ErrInvalidRequest)
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
	return assume(ctx, g.sts, req, token)
}

// checkRoleRequest holds the checks both OIDC modes share.
func checkRoleRequest(req Request) error {
	if req.RoleARN == "" || req.SessionName == "" {
		return fmt.Errorf("%w: role ARN and session name are required", ErrInvalidRequest)
	}
	if req.Duration < 0 {
		return fmt.Errorf("%w: negative duration", ErrInvalidRequest)
	}
	return nil
}

func assume(ctx context.Context, sts WebIdentitySTS, req Request, token string) (*Credentials, error) {
	creds, err := sts.AssumeRoleWithWebIdentity(ctx, WebIdentityInput{
		RoleARN:     req.RoleARN,
		Token:       token,
		SessionName: req.SessionName,
		Duration:    req.Duration,
		Policy:      req.SessionPolicy,
	})
	if err != nil {
		return nil, err
	}
	if creds.RoleARN == "" {
		creds.RoleARN = req.RoleARN
	}
	if creds.SessionName == "" {
		creds.SessionName = req.SessionName
	}
	return creds, nil
}
