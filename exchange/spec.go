package exchange

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"fedgate/exchange/issuer"
	"fedgate/exchange/samlbroker"
)

// ModeSpec describes one exchange mode: what it hands to STS, what a pool
// using it may and must configure, and the trust policy its roles need.
// Configuration checks, trust policies and role narrowing follow these
// fields, so a new mode is its package and one line in the registry
// (package exchange/modes), with no mode names elsewhere.
type ModeSpec struct {
	// Name is the mode's name in a pool's configuration.
	Name string
	// Forwards is the upstream credential the mode passes to STS
	// unchanged, or ForwardNothing when fedgate mints its own.
	Forwards Forward
	// ProviderTypes are the provider types (config names: "oidc",
	// "saml", ...) a pool of this mode accepts; empty accepts any.
	ProviderTypes []string
	// SessionTags reports whether the mode can carry session tags and a
	// source identity (fedgate signs what STS reads).
	SessionTags bool
	// Guests reports whether the mode vends to guest identities (no
	// sign-in): only a mode that mints its own token has one to present.
	Guests bool
	// SAMLProvider reports whether a pool of this mode names the IAM SAML
	// provider its roles trust (saml_provider_arn).
	SAMLProvider bool
	// OwnSAMLProvider reports whether that IAM SAML provider must be the
	// pool's alone: fedgate signs every such pool's responses with one
	// issuer and key, so roles trusting a shared provider would trust
	// every pool on it.
	OwnSAMLProvider bool
	// NarrowToAssertion reports whether granted roles are narrowed to
	// those the SAML assertion's Role attribute offers through the pool's
	// IAM SAML provider: STS refuses any other.
	NarrowToAssertion bool
	// Trust is the shape of the trust policy the pool's roles need.
	Trust TrustShape
	// New builds the mode from what fedgate has.
	New func(ModeDeps) Mode
}

// AcceptsProvider reports whether a pool of this mode may use a provider
// of the given type.
func (s ModeSpec) AcceptsProvider(providerType string) bool {
	return len(s.ProviderTypes) == 0 || slices.Contains(s.ProviderTypes, providerType)
}

// Check reports a spec that contradicts itself, for the registry's tests.
func (s ModeSpec) Check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("mode %q: "+format, append([]any{s.Name}, args...)...))
	}
	if s.Name == "" {
		bad("has no name")
	}
	if s.New == nil {
		bad("has no constructor")
	}
	if s.Trust.STSAction() == "" {
		bad("has no trust policy shape")
	}
	if s.SAMLProvider != (s.Trust == TrustSAMLProvider) {
		bad("needs an IAM SAML provider exactly when its roles trust one")
	}
	if s.OwnSAMLProvider && (!s.SAMLProvider || s.Forwards != ForwardNothing) {
		bad("an IAM SAML provider of its own is for modes that sign their own SAML response")
	}
	if s.NarrowToAssertion && s.Forwards != ForwardSAMLResponse {
		bad("only a forwarded SAML response has a Role attribute to narrow to")
	}
	if s.SessionTags && s.Forwards != ForwardNothing {
		bad("cannot add session tags to a credential it forwards unchanged")
	}
	if s.Guests && s.Trust != TrustGatewayOIDC {
		bad("guests need fedgate's own token")
	}
	if s.Trust == TrustUpstreamOIDC && s.Forwards != ForwardIDToken {
		bad("roles trusting the upstream IdP need its ID token")
	}
	return errors.Join(errs...)
}

// Forward is the upstream credential a mode passes to STS.
type Forward int

const (
	// ForwardNothing: fedgate mints its own token or signs its own SAML
	// response, whatever the upstream was.
	ForwardNothing Forward = iota
	// ForwardIDToken: the upstream OIDC ID token, to
	// AssumeRoleWithWebIdentity.
	ForwardIDToken
	// ForwardSAMLResponse: the upstream SAML response, to
	// AssumeRoleWithSAML.
	ForwardSAMLResponse
)

// TrustShape is the shape of the trust policy a mode's roles need.
type TrustShape int

const (
	// TrustGatewayOIDC: roles trust fedgate, registered in IAM as an OIDC
	// provider, on the pool's audience.
	TrustGatewayOIDC TrustShape = iota + 1
	// TrustUpstreamOIDC: roles trust the upstream IdP, registered in IAM
	// as an OIDC provider, on its client id.
	TrustUpstreamOIDC
	// TrustSAMLProvider: roles trust the pool's IAM SAML provider.
	TrustSAMLProvider
)

// STSAction is the STS call the roles are assumed with.
func (t TrustShape) STSAction() string {
	switch t {
	case TrustGatewayOIDC, TrustUpstreamOIDC:
		return "sts:AssumeRoleWithWebIdentity"
	case TrustSAMLProvider:
		return "sts:AssumeRoleWithSAML"
	}
	return ""
}

// ModeDeps is what a mode may need from fedgate; each mode takes its part.
type ModeDeps struct {
	// Minter mints fedgate's own OIDC tokens.
	Minter Minter
	// WebIdentitySTS makes AssumeRoleWithWebIdentity calls.
	WebIdentitySTS WebIdentitySTS
	// SAMLSTS makes AssumeRoleWithSAML calls; nil when the STS client
	// has none.
	SAMLSTS SAMLSTS
	// Signer signs fedgate's own SAML responses for AWS.
	Signer AWSAssertionSigner
}

// Minter mints fedgate's own tokens; *issuer.Issuer implements it.
type Minter interface {
	Mint(ctx context.Context, t issuer.Token) (string, error)
}

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

// AWSAssertionSigner signs fedgate's own SAML response for AWS;
// *samlbroker.IdP implements it.
type AWSAssertionSigner interface {
	SignAWSResponse(ctx context.Context, a samlbroker.Assertion) (string, error)
}
