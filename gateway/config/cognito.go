package config

import (
	"regexp"
	"strings"
)

// Cognito configures the Amazon Cognito Identity-compatible API (GetId,
// GetCredentialsForIdentity, GetOpenIdToken): where it answers besides
// POST / and how hard one caller may push it.
type Cognito struct {
	// Path is an extra path the API answers on (e.g. /cognito), for a
	// gateway behind a proxy that routes by path. POST / always answers.
	Path string `yaml:"path" json:"path,omitempty"`
	// Rate limits, as token buckets kept in memory by each replica:
	// requests per second and burst, per source address and per identity.
	RatePerAddress   float64 `yaml:"rate_per_address" json:"rate_per_address,omitempty"`
	BurstPerAddress  int     `yaml:"burst_per_address" json:"burst_per_address,omitempty"`
	RatePerIdentity  float64 `yaml:"rate_per_identity" json:"rate_per_identity,omitempty"`
	BurstPerIdentity int     `yaml:"burst_per_identity" json:"burst_per_identity,omitempty"`
	// Guest identities created (GetId without logins) per source address,
	// on top of the request limits above.
	GuestRatePerAddress  float64 `yaml:"guest_rate_per_address" json:"guest_rate_per_address,omitempty"`
	GuestBurstPerAddress int     `yaml:"guest_burst_per_address" json:"guest_burst_per_address,omitempty"`
}

// Defaults and bounds of the Cognito API settings.
const (
	DefaultCognitoRatePerAddress   = 20
	DefaultCognitoBurstPerAddress  = 100
	DefaultCognitoRatePerIdentity  = 2
	DefaultCognitoBurstPerIdentity = 20
	maxCognitoRate                 = 1e6
	maxCognitoBurst                = 1e6
)

var cognitoPathPattern = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// cognitoReservedPrefixes are the gateway's own routes; the Cognito path
// must not shadow them.
var cognitoReservedPrefixes = []string{"/api", "/login", "/callback", "/roles", "/static", "/.well-known", "/pools", "/healthz", "/readyz", "/admin", "/cli", "/console", "/saml"}

func (c *Cognito) applyDefaults() {
	if c.RatePerAddress == 0 {
		c.RatePerAddress = DefaultCognitoRatePerAddress
	}
	if c.BurstPerAddress == 0 {
		c.BurstPerAddress = DefaultCognitoBurstPerAddress
	}
	if c.RatePerIdentity == 0 {
		c.RatePerIdentity = DefaultCognitoRatePerIdentity
	}
	if c.BurstPerIdentity == 0 {
		c.BurstPerIdentity = DefaultCognitoBurstPerIdentity
	}
	if c.GuestRatePerAddress == 0 {
		c.GuestRatePerAddress = DefaultGuestRatePerAddress
	}
	if c.GuestBurstPerAddress == 0 {
		c.GuestBurstPerAddress = DefaultGuestBurstPerAddress
	}
}

func (c *Cognito) validate(add func(string, string, ...any)) {
	if c.Path != "" {
		if !cognitoPathPattern.MatchString(c.Path) {
			add("cognito.path", "must be an absolute path such as /cognito (letters, digits, '.', '_', '~', '-')")
		} else {
			for _, p := range cognitoReservedPrefixes {
				if c.Path == p || strings.HasPrefix(c.Path, p+"/") {
					add("cognito.path", "must not be under %s, which the gateway already serves", p)
					break
				}
			}
		}
	}
	if c.RatePerAddress <= 0 || c.RatePerAddress > maxCognitoRate {
		add("cognito.rate_per_address", "must be a number of requests per second above 0")
	}
	if c.RatePerIdentity <= 0 || c.RatePerIdentity > maxCognitoRate {
		add("cognito.rate_per_identity", "must be a number of requests per second above 0")
	}
	if c.BurstPerAddress < 1 || c.BurstPerAddress > maxCognitoBurst {
		add("cognito.burst_per_address", "must be between 1 and 1000000")
	}
	if c.BurstPerIdentity < 1 || c.BurstPerIdentity > maxCognitoBurst {
		add("cognito.burst_per_identity", "must be between 1 and 1000000")
	}
	validateBudget("cognito.guest", c.GuestRatePerAddress, c.GuestBurstPerAddress, add)
}
