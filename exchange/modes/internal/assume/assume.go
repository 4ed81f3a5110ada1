// Package assume holds the request checks and STS calls the exchange
// modes share.
package assume

import (
	"context"
	"fmt"

	"fedgate/exchange"
)

// CheckWebIdentity holds the checks every AssumeRoleWithWebIdentity mode
// makes before calling STS.
func CheckWebIdentity(req exchange.Request) error {
	if req.RoleARN == "" || req.SessionName == "" {
		return fmt.Errorf("%w: role ARN and session name are required", exchange.ErrInvalidRequest)
	}
	if req.Duration < 0 {
		return fmt.Errorf("%w: negative duration", exchange.ErrInvalidRequest)
	}
	return nil
}

// WebIdentity assumes the request's role with token.
func WebIdentity(ctx context.Context, sts exchange.WebIdentitySTS, req exchange.Request, token string) (*exchange.Credentials, error) {
	creds, err := sts.AssumeRoleWithWebIdentity(ctx, exchange.WebIdentityInput{
		RoleARN:     req.RoleARN,
		Token:       token,
		SessionName: req.SessionName,
		Duration:    req.Duration,
		Policy:      req.SessionPolicy,
	})
	if err != nil {
		return nil, err
	}
	return fill(creds, req), nil
}

// CheckSAML holds the checks every AssumeRoleWithSAML mode makes before
// calling STS.
func CheckSAML(req exchange.Request) error {
	if req.RoleARN == "" || req.SAMLProviderARN == "" {
		return fmt.Errorf("%w: role ARN and SAML provider ARN are required", exchange.ErrInvalidRequest)
	}
	if req.Duration < 0 {
		return fmt.Errorf("%w: negative duration", exchange.ErrInvalidRequest)
	}
	return nil
}

// SAML assumes the request's role through its IAM SAML provider with a
// base64 SAML response.
func SAML(ctx context.Context, sts exchange.SAMLSTS, req exchange.Request, assertion string) (*exchange.Credentials, error) {
	if sts == nil {
		return nil, fmt.Errorf("%w: no STS client for AssumeRoleWithSAML", exchange.ErrInvalidRequest)
	}
	creds, err := sts.AssumeRoleWithSAML(ctx, exchange.SAMLInput{
		RoleARN:      req.RoleARN,
		PrincipalARN: req.SAMLProviderARN,
		Assertion:    assertion,
		Duration:     req.Duration,
		Policy:       req.SessionPolicy,
	})
	if err != nil {
		return nil, err
	}
	return fill(creds, req), nil
}

// RefuseTags refuses session tags and a source identity in a mode that
// forwards a credential it did not sign: they would be lost silently.
// instead says where they can go.
func RefuseTags(mode string, req exchange.Request, instead string) error {
	if len(req.Tags) > 0 || len(req.TransitiveTagKeys) > 0 || req.SourceIdentity != "" {
		return fmt.Errorf("%w: %s mode cannot add session tags or a source identity; %s", exchange.ErrInvalidRequest, mode, instead)
	}
	return nil
}

// fill names the role and session STS left out of its answer.
func fill(creds *exchange.Credentials, req exchange.Request) *exchange.Credentials {
	if creds.RoleARN == "" {
		creds.RoleARN = req.RoleARN
	}
	if creds.SessionName == "" {
		creds.SessionName = req.SessionName
	}
	return creds
}
