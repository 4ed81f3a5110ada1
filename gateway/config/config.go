// Package config reads fedgate's YAML configuration, expands environment
// variables in it and validates it in one place, reporting every problem at
// once so an admin can fix a file in one pass.
package config

import (
	"regexp"
	"strings"
	"time"

	"fedgate/exchange/arn"
	"fedgate/exchange/rules"
	"fedgate/idp/settings"
)

// File is the whole configuration file.
type File struct {
	Server    Server     `yaml:"server" json:"server"`
	Store     Store      `yaml:"store" json:"store"`
	Keys      Keys       `yaml:"keys" json:"keys"`
	STS       STS        `yaml:"sts" json:"sts"`
	Providers []Provider `yaml:"providers" json:"providers"`
	Pools     []Pool     `yaml:"pools" json:"pools"`
	// Admin is the admin UI and API.
	Admin Admin `yaml:"admin" json:"admin"`
	// CLI and Console are `fedgate login` and the console sign-in.
	CLI     CLI     `yaml:"cli" json:"cli"`
	Console Console `yaml:"console" json:"console"`
	// Cognito is the Cognito Identity-compatible API.
	Cognito Cognito `yaml:"cognito" json:"cognito"`
	// SAMLBroker is fedgate as a SAML IdP registered in IAM.
	SAMLBroker SAMLBroker `yaml:"saml_broker" json:"saml_broker"`
	// MappingsSource says whether the file or the store holds the live
	// providers, pools and rules.
	MappingsSource MappingsSettings `yaml:"mappings" json:"mappings"`
	// Audit is the audit log's retention.
	Audit Audit `yaml:"audit" json:"audit"`
}

// Server is how fedgate listens and how the world reaches it.
type Server struct {
	Listen string `yaml:"listen" json:"listen"`
	// PublicURL is the base of every redirect URL, and the issuer URL
	// unless keys.publish.issuer_url names another.
	PublicURL string `yaml:"public_url" json:"public_url"`
	// SessionTTL bounds a browser sign-in (login flow and role picker).
	SessionTTL Duration `yaml:"session_ttl" json:"session_ttl"`
	// MaxBodyBytes caps every request body.
	MaxBodyBytes int64 `yaml:"max_body_bytes" json:"max_body_bytes"`
	// ShutdownGrace is how long in-flight requests get on SIGTERM.
	ShutdownGrace Duration `yaml:"shutdown_grace" json:"shutdown_grace"`
	// ReloadInterval is how often the live configuration is re-read from the
	// store, so every replica picks up a change.
	ReloadInterval Duration `yaml:"reload_interval" json:"reload_interval"`
	// TrustedProxies are the addresses or CIDRs allowed to set
	// X-Forwarded-For; empty means the TCP peer is the client.
	TrustedProxies []string `yaml:"trusted_proxies" json:"trusted_proxies,omitempty"`
	// OpsListen is a second listener (host:port) for /metrics, /healthz,
	// /readyz and /debug/pprof/; when set, the public listener stops
	// serving /metrics and pprof is served nowhere else.
	OpsListen string `yaml:"ops_listen" json:"ops_listen,omitempty"`
	// TLS makes the public listener serve https.
	TLS TLS `yaml:"tls" json:"tls"`
	// AllowUpstreamCIDRs are addresses of the gateway's own network
	// (loopback, private, link-local, ...) that upstream requests to
	// identity providers may reach anyway. File only: no admin can change it.
	AllowUpstreamCIDRs []string `yaml:"allow_upstream_cidrs" json:"allow_upstream_cidrs,omitempty"`
	// Sign-ins started (each stores a flow) per source address: a token
	// bucket of this rate per second and burst, in each replica.
	SignInRatePerAddress  float64 `yaml:"sign_in_rate_per_address" json:"sign_in_rate_per_address,omitempty"`
	SignInBurstPerAddress int     `yaml:"sign_in_burst_per_address" json:"sign_in_burst_per_address,omitempty"`
}

// Store selects the storage backend.
type Store struct {
	Driver string `yaml:"driver" json:"driver"` // sqlite | postgres
	Path   string `yaml:"path" json:"path"`     // sqlite file
	// DSN is the postgres connection string (URL or key=value). It may hold
	// a password, so it is never marshalled or logged; FEDGATE_STORE_DSN
	// overrides it.
	DSN string `yaml:"dsn" json:"-"`
}

// Keys configures fedgate's token issuer and the encryption of secrets at rest.
type Keys struct {
	Algorithm string `yaml:"algorithm" json:"algorithm"` // ES256 | RS256
	// MasterKey is base64 of 32 bytes; it seals signing keys and secrets in the store.
	MasterKey string `yaml:"master_key" json:"-"`
	// MasterKeyFile is used when MasterKey is empty; with GenerateMasterKey it
	// is created on first start (demo and development only).
	MasterKeyFile     string   `yaml:"master_key_file" json:"master_key_file"`
	GenerateMasterKey bool     `yaml:"generate_master_key" json:"generate_master_key"`
	TokenTTL          Duration `yaml:"token_ttl" json:"token_ttl"`
	// Publish, when present, copies the discovery documents and key set
	// to an S3 bucket that IAM reads instead of the gateway.
	Publish *Publish `yaml:"publish" json:"publish,omitempty"`
}

// STS says where AssumeRoleWith* calls go.
type STS struct {
	Region   string   `yaml:"region" json:"region"`
	Endpoint string   `yaml:"endpoint" json:"endpoint"`
	Timeout  Duration `yaml:"timeout" json:"timeout"`
	// Flavor is the kind of STS at the endpoint (aws or minio); it decides
	// which role ARNs the pools may name.
	Flavor arn.Flavor `yaml:"flavor" json:"flavor"`
}

// Pool is a Cognito-style identity pool: the providers it accepts and how
// their claims map to roles.
type Pool struct {
	ID          string   `yaml:"id" json:"id"` // REGION:UUID
	Name        string   `yaml:"name" json:"name"`
	DisplayName string   `yaml:"display_name" json:"display_name,omitempty"`
	Providers   []string `yaml:"providers" json:"providers"`
	// Mode is the exchange mode, a name registered in exchange/modes
	// (default gateway-token).
	Mode string `yaml:"mode" json:"mode,omitempty"`
	// OwnIssuer gives the pool an issuer path of its own
	// (<public-url>/pools/<name>), for accounts past IAM's 100 client ids.
	OwnIssuer bool `yaml:"own_issuer" json:"own_issuer,omitempty"`

	Resolution          string            `yaml:"resolution" json:"resolution,omitempty"`
	NoMatch             string            `yaml:"no_match" json:"no_match,omitempty"`
	AuthenticatedRole   string            `yaml:"authenticated_role" json:"authenticated_role,omitempty"`
	UnauthenticatedRole string            `yaml:"unauthenticated_role" json:"unauthenticated_role,omitempty"`
	AllowGuests         bool              `yaml:"allow_guests" json:"allow_guests,omitempty"`
	RolesClaim          string            `yaml:"roles_claim" json:"roles_claim,omitempty"`
	PreferredRoleClaim  string            `yaml:"preferred_role_claim" json:"preferred_role_claim,omitempty"`
	PrincipalTags       map[string]string `yaml:"principal_tags" json:"principal_tags,omitempty"`
	TransitiveTagKeys   []string          `yaml:"transitive_tag_keys" json:"transitive_tag_keys,omitempty"`
	Rules               []rules.RuleSpec  `yaml:"rules" json:"rules,omitempty"`

	// SessionNameClaim names the claim RoleSessionName is derived from
	// (default: email, then preferred_username, then sub).
	SessionNameClaim string `yaml:"session_name_claim" json:"session_name_claim,omitempty"`
	// DurationSeconds is the default credential lifetime (900..43200).
	DurationSeconds int `yaml:"duration_seconds" json:"duration_seconds,omitempty"`
	// SAMLProviderARN is the IAM SAML provider of the saml-forward and
	// saml-broker modes.
	SAMLProviderARN string `yaml:"saml_provider_arn" json:"saml_provider_arn,omitempty"`
	// AllowClassicFlow lets the Cognito API's GetOpenIdToken hand apps a
	// gateway token for their own AssumeRoleWithWebIdentity (Cognito's
	// basic flow); the rules do not apply to that call.
	AllowClassicFlow bool `yaml:"allow_classic_flow" json:"allow_classic_flow,omitempty"`
	// GuestTTL is how long a guest identity nobody uses is kept
	// (default DefaultGuestTTL); GuestIdleTTL reads it.
	GuestTTL Duration `yaml:"guest_ttl" json:"guest_ttl,omitempty"`
	// AccountAliases names AWS accounts (12-digit id to a name people know)
	// in the access portal, which groups roles by account.
	AccountAliases map[string]string `yaml:"account_aliases" json:"account_aliases,omitempty"`
	// DeveloperProviderName is the Cognito API's developer provider: the
	// Logins key under which a backend, signing with an access key, names
	// its own users (GetOpenIdTokenForDeveloperIdentity). Empty: none.
	DeveloperProviderName string `yaml:"developer_provider_name" json:"developer_provider_name,omitempty"`
}

// DeveloperProviderPattern is Cognito's pattern for a developer provider
// name; it is 1 to MaxDeveloperProviderName characters long.
var DeveloperProviderPattern = regexp.MustCompile(`^[\w._-]+$`)

// MaxDeveloperProviderName is the longest developer provider name
// Cognito's CreateIdentityPool takes.
const MaxDeveloperProviderName = 100

// DefaultGuestTTL keeps an unused guest identity for 30 days, long enough
// for an app opened once a month to keep its id.
const DefaultGuestTTL = 30 * 24 * time.Hour

// minGuestTTL is the shortest guest_ttl: an app's identity must outlive
// the credentials it was given.
const minGuestTTL = time.Hour

// GuestIdleTTL is how long an unused guest identity of the pool is kept.
func (p *Pool) GuestIdleTTL() time.Duration {
	if p.GuestTTL == 0 {
		return DefaultGuestTTL
	}
	return p.GuestTTL.D()
}

// RulesSpec is the pool's mapping in the rules engine's terms.
func (p *Pool) RulesSpec() rules.Spec {
	return rules.Spec{
		Resolution:         p.Resolution,
		Rules:              p.Rules,
		RolesClaim:         p.RolesClaim,
		PreferredRoleClaim: p.PreferredRoleClaim,
		NoMatch:            p.NoMatch,
		DefaultRole:        p.AuthenticatedRole,
		PrincipalTags:      p.PrincipalTags,
		TransitiveTagKeys:  p.TransitiveTagKeys,
	}
}

// Mappings is the part of the configuration that lives in the store and
// can change at run time: providers and pools.
type Mappings struct {
	Providers []Provider `json:"providers"`
	Pools     []Pool     `json:"pools"`
}

// Mappings returns the run-time-editable part of the file.
func (f *File) Mappings() Mappings {
	return Mappings{Providers: f.Providers, Pools: f.Pools}
}

// Duration is a time.Duration written as "15m" or a number of seconds.
type Duration = settings.Duration

// IssuerURL is the issuer a pool's tokens carry: the issuer base, or a
// path of the pool's own when it has left the shared IAM OIDC provider.
func (f *File) IssuerURL(p *Pool) string {
	if p.OwnIssuer {
		return f.IssuerBase() + "/pools/" + p.Name
	}
	return f.IssuerBase()
}

// Audience is the aud of tokens minted for the pool's signed-in identities.
func (p *Pool) Audience() string { return p.ID }

// GuestAudience is the aud of tokens minted for guests. It differs from
// Audience so that no authenticated role's trust policy accepts a guest.
func (p *Pool) GuestAudience() string { return p.ID + ":unauthenticated" }

// DeveloperAudience is the aud of the tokens GetOpenIdTokenForDeveloperIdentity
// mints for a pool without the classic flow: the app holding one must come
// back to fedgate, where the rules apply, as no role trusts this audience.
func (p *Pool) DeveloperAudience() string { return p.ID + ":developer" }

// Region is the region part of the pool id.
func (p *Pool) Region() string {
	region, _, _ := strings.Cut(p.ID, ":")
	return region
}
