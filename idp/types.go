package idp

import (
	"context"
	"io"
	"net/http"
	"time"

	"fedgate/idp/settings"
)

// Type is one kind of upstream identity provider. A type is one package
// under idp/ and one line in idp/registry; everything else (validation,
// the admin forms, the OpenAPI schema, redaction of secrets) follows from
// its Config.
type Type struct {
	// Name is the provider's `type` in the configuration.
	Name string
	// Title names the type for people ("OpenID Connect").
	Title string
	// Summary is one line for people choosing a type.
	Summary string
	// New returns an empty configuration of this type to decode into.
	New func() Config
}

// Config is the configuration of one provider: every key of its entry
// besides id, type and display_name. Implementations are structs with
// yaml and json tags (see settings.Fields for the tags that describe a
// field); unknown keys are refused when an entry is decoded.
type Config interface {
	// ApplyDefaults fills in what the entry leaves out.
	ApplyDefaults(site Site)
	// Validate reports every problem, with keys relative to the entry.
	Validate(site Site) settings.Problems
	// Open builds the provider.
	Open(ctx context.Context, env Env) (Provider, error)
}

// Site is where a provider serves: its id and the gateway's public URL,
// from which its default endpoints derive.
type Site struct {
	ID, PublicURL string
}

// Env is what an opened provider may use.
type Env struct {
	Site
	DisplayName string
	// HTTP reaches the upstream (timeouts and size caps set).
	HTTP *http.Client
	Now  func() time.Time
	Rand io.Reader
	// Replay remembers assertion ids, shared by every replica.
	Replay ReplayCache
}

// ReplayCache remembers assertion ids. The gateway implements it over the
// store so that several replicas share it.
type ReplayCache interface {
	// Remember records an assertion id until notOnOrAfter; it returns an
	// error wrapping ErrReplay if the id was already recorded.
	Remember(ctx context.Context, assertionID string, notOnOrAfter time.Time) error
}

// IssuerConfig is implemented by the configurations of providers that are
// an OAuth 2.0 or OpenID Connect issuer: an authorization response's iss
// (RFC 9207) and a bearer token's iss are compared with it.
type IssuerConfig interface {
	IssuerURL() string
}

// SecretDestinationConfig is implemented by the configurations whose
// secrets are sent somewhere other than their issuer, such as an OAuth 2.0
// token endpoint given in the configuration. A stored secret follows an
// edit only while its destination stays the same; for the others the
// destination is their issuer.
type SecretDestinationConfig interface {
	SecretDestination() string
}

// ClientConfig is implemented by the configurations of providers whose
// ID tokens can go to STS unchanged (the upstream-token mode): the client
// id they are issued to, for the roles' trust policies.
type ClientConfig interface {
	IssuerConfig
	Client() string
}

// UnsolicitedConfig is implemented by the configurations of providers that
// may accept sign-ins started at the IdP (SAML IdP-initiated).
type UnsolicitedConfig interface {
	IdPInitiated() bool
}
