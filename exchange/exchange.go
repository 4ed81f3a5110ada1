// Package exchange turns a mapped identity into AWS credentials. Each
// exchange mode is one implementation of Mode, described by a ModeSpec and
// registered in package exchange/modes; other subpackages hold the rules
// engine, the token issuer, the SAML broker and the STS client.
package exchange

import (
	"context"
	"time"
)

// Credentials are temporary AWS credentials as STS returned them.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	RoleARN         string // the role that was requested
	AssumedRoleARN  string // arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
	SessionName     string
}

// Request is everything a mode needs to vend credentials for one role.
type Request struct {
	PoolID            string
	Audience          string // aud of a gateway-minted token (pool id, or guest audience)
	IssuerURL         string // iss of a gateway-minted token: the root issuer or the pool's own
	IdentityID        string // REGION:UUID, sub of the minted token
	Provider          string
	AMR               []string
	RoleARN           string
	SessionName       string
	Duration          time.Duration
	SessionPolicy     string // inline JSON, optional
	Tags              map[string]string
	TransitiveTagKeys []string
	SourceIdentity    string
	UpstreamToken     string // raw upstream ID token, for upstream-token mode (the base64 SAML response for saml-forward)
	SAMLProviderARN   string // IAM SAML provider ARN, for the saml-forward and saml-broker modes
}

// Mode vends credentials for a mapped identity.
type Mode interface {
	Name() string
	Vend(ctx context.Context, req Request) (*Credentials, error)
}

// WebIdentityInput is one AssumeRoleWithWebIdentity call.
type WebIdentityInput struct {
	RoleARN     string
	Token       string
	SessionName string
	Duration    time.Duration
	Policy      string
}

// WebIdentitySTS is the one STS call the OIDC modes need.
type WebIdentitySTS interface {
	AssumeRoleWithWebIdentity(ctx context.Context, in WebIdentityInput) (*Credentials, error)
}
