package exchange

import (
	"context"
	"fmt"
	"time"
)

// SAMLInput is one AssumeRoleWithSAML call.
type SAMLInput struct {
	RoleARN      string
	PrincipalARN string // the IAM SAML provider ARN
	Assertion    string // base64 SAML Response
	Duration     time.Duration
	Policy       string
}

// SAMLSTS is the one STS call the SAML modes need.
type SAMLSTS interface {
	AssumeRoleWithSAML(ctx context.Context, in SAMLInput) (*Credentials, error)
}

// The AWS contract bounds SAMLAssertion to 4..100000 characters.
const (
	minSAMLAssertion = 4
	maxSAMLAssertion = 100000
)

// samlForwardMode passes the upstream IdP's own SAML response to STS: the
// IdP is registered in IAM as a SAML provider and its Role attribute already
// names the role (the gateway has narrowed that list with the pool's rules).
type samlForwardMode struct {
	sts SAMLSTS
}

// NewSAMLForwardMode returns the "saml-forward" mode. As in upstream-token
// mode fedgate cannot add session tags or a source identity to a response it
// did not sign, so requests carrying them are refused rather than silently
// losing them.
func NewSAMLForwardMode(sts SAMLSTS) Mode { return &samlForwardMode{sts: sts} }

func (*samlForwardMode) Name() string { return "saml-forward" }

func (m *samlForwardMode) Vend(ctx context.Context, req Request) (*Credentials, error) {
	if err := checkSAMLRequest(req); err != nil {
		return nil, err
	}
	if n := len(req.UpstreamToken); n < minSAMLAssertion || n > maxSAMLAssertion {
		return nil, fmt.Errorf("%w: saml-forward mode needs the upstream SAML response (4..100000 characters, got %d)", ErrInvalidRequest, n)
	}
	if len(req.Tags) > 0 || len(req.TransitiveTagKeys) > 0 || req.SourceIdentity != "" {
		return nil, fmt.Errorf("%w: saml-forward mode cannot add session tags or a source identity; "+
			"use saml-broker mode or have the IdP put them in its assertion", ErrInvalidRequest)
	}
	return assumeSAML(ctx, m.sts, req, req.UpstreamToken)
}

func checkSAMLRequest(req Request) error {
	if req.RoleARN == "" || req.SAMLProviderARN == "" {
		return fmt.Errorf("%w: role ARN and SAML provider ARN are required", ErrInvalidRequest)
	}
	if req.Duration < 0 {
		return fmt.Errorf("%w: negative duration", ErrInvalidRequest)
	}
	return nil
}

func assumeSAML(ctx context.Context, sts SAMLSTS, req Request, assertion string) (*Credentials, error) {
	if sts == nil {
		return nil, fmt.Errorf("%w: no STS client for AssumeRoleWithSAML", ErrInvalidRequest)
	}
	creds, err := sts.AssumeRoleWithSAML(ctx, SAMLInput{
		RoleARN:      req.RoleARN,
		PrincipalARN: req.SAMLProviderARN,
		Assertion:    assertion,
		Duration:     req.Duration,
		Policy:       req.SessionPolicy,
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
