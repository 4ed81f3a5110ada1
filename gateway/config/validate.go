package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"fedgate/exchange/arn"
	"fedgate/exchange/rules"
	"fedgate/gateway/upstream"
	"fedgate/idp"
	"fedgate/idp/registry"
)

// Defaults for a fresh install: everything on loopback, SQLite beside the
// config, keys generated on first start.
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultSessionTTL      = 15 * time.Minute
	DefaultMaxBodyBytes    = 1 << 20
	DefaultShutdownGrace   = 10 * time.Second
	DefaultReloadInterval  = 2 * time.Second
	DefaultTokenTTL        = 5 * time.Minute
	MaxTokenTTL            = 10 * time.Minute
	DefaultDurationSeconds = 3600
	MinDurationSeconds     = 900
	MaxDurationSeconds     = 43200
	// MaxAudiencesPerIssuer is IAM's limit of client ids on one OIDC provider.
	MaxAudiencesPerIssuer = 100
	// Budgets of unauthenticated requests that store something, per
	// source address: sign-ins started (a flow each), device codes, guest
	// identities. Generous enough for an office behind one NAT.
	DefaultSignInRatePerAddress  = 2
	DefaultSignInBurstPerAddress = 60
	DefaultDeviceRatePerAddress  = 0.2
	DefaultDeviceBurstPerAddress = 20
	DefaultGuestRatePerAddress   = 1
	DefaultGuestBurstPerAddress  = 50
)

// validateBudget checks the <prefix>_rate_per_address and
// <prefix>_burst_per_address pair of a per-address budget.
func validateBudget(prefix string, rate float64, burst int, add func(string, string, ...any)) {
	if rate <= 0 || rate > maxCognitoRate {
		add(prefix+"_rate_per_address", "must be a number of requests per second above 0")
	}
	if burst < 1 || burst > maxCognitoBurst {
		add(prefix+"_burst_per_address", "must be between 1 and 1000000")
	}
}

// Provider types.
const (
	ProviderOIDC   = "oidc"
	ProviderStatic = "static"
)

var (
	providerIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	poolIDPattern     = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	poolNamePattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	regionPattern     = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
	accountIDPattern  = regexp.MustCompile(`^[0-9]{12}$`)
)

// ApplyDefaults fills what an admin may leave out.
func (f *File) ApplyDefaults() {
	s := &f.Server
	if s.Listen == "" {
		s.Listen = DefaultListen
	}
	if s.PublicURL == "" {
		s.PublicURL = "http://" + s.Listen
	}
	s.PublicURL = strings.TrimRight(s.PublicURL, "/")
	if s.SessionTTL == 0 {
		s.SessionTTL = Duration(DefaultSessionTTL)
	}
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.ShutdownGrace == 0 {
		s.ShutdownGrace = Duration(DefaultShutdownGrace)
	}
	if s.ReloadInterval == 0 {
		s.ReloadInterval = Duration(DefaultReloadInterval)
	}
	if s.SignInRatePerAddress == 0 {
		s.SignInRatePerAddress = DefaultSignInRatePerAddress
	}
	if s.SignInBurstPerAddress == 0 {
		s.SignInBurstPerAddress = DefaultSignInBurstPerAddress
	}
	if f.Store.Driver == "" {
		f.Store.Driver = "sqlite"
	}
	if f.Store.Path == "" {
		f.Store.Path = "fedgate.db"
	}
	if f.Keys.Algorithm == "" {
		f.Keys.Algorithm = "ES256"
	}
	if f.Keys.TokenTTL == 0 {
		f.Keys.TokenTTL = Duration(DefaultTokenTTL)
	}
	if f.STS.Region == "" {
		f.STS.Region = "us-east-1"
	}
	if f.STS.Timeout == 0 {
		f.STS.Timeout = Duration(10 * time.Second)
	}
	if f.STS.Flavor == "" {
		f.STS.Flavor = arn.FlavorAWS
	}
	for i := range f.Providers {
		p := &f.Providers[i]
		if p.DisplayName == "" {
			p.DisplayName = p.ID
		}
		if p.Settings != nil {
			p.Settings.ApplyDefaults(f.site(p.ID))
		}
	}
	f.applyTLSDefaults()
	f.applyPublishDefaults()
	f.MappingsSource.applyDefaults()
	f.Admin.applyDefaults()
	f.applyCLIDefaults()
	f.Cognito.applyDefaults()
	f.Audit.applyDefaults()
	f.applySAMLDefaults()
	for i := range f.Pools {
		p := &f.Pools[i]
		if p.Mode == "" {
			p.Mode = ModeGatewayToken
		}
		if p.DisplayName == "" {
			p.DisplayName = p.Name
		}
		if p.DurationSeconds == 0 {
			p.DurationSeconds = DefaultDurationSeconds
		}
	}
}

// Validate reports every problem in the file, not just the first.
func (f *File) Validate() Problems {
	var ps Problems
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if _, _, err := net.SplitHostPort(f.Server.Listen); err != nil {
		add("server.listen", "must be host:port, e.g. 127.0.0.1:8080")
	}
	validatePublicURL(f.Server.PublicURL, add)
	f.validateTLS(add)
	f.MappingsSource.validate(add)
	if f.Server.OpsListen != "" {
		if _, _, err := net.SplitHostPort(f.Server.OpsListen); err != nil {
			add("server.ops_listen", "must be host:port, e.g. 127.0.0.1:9090")
		} else if f.Server.OpsListen == f.Server.Listen {
			add("server.ops_listen", "must differ from server.listen")
		}
	}
	if f.Server.SessionTTL.D() < time.Minute || f.Server.SessionTTL.D() > 24*time.Hour {
		add("server.session_ttl", "must be between 1m and 24h")
	}
	for i, p := range f.Server.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				add(fmt.Sprintf("server.trusted_proxies[%d]", i), "%q is not an IP address or CIDR", p)
			}
		}
	}
	for i, c := range f.Server.AllowUpstreamCIDRs {
		if _, err := upstream.ParseCIDR(c); err != nil {
			add(fmt.Sprintf("server.allow_upstream_cidrs[%d]", i), "%q is not an IP address or CIDR", c)
		}
	}
	validateBudget("server.sign_in", f.Server.SignInRatePerAddress, f.Server.SignInBurstPerAddress, add)
	if f.Server.MaxBodyBytes < 1024 || f.Server.MaxBodyBytes > 64<<20 {
		add("server.max_body_bytes", "must be between 1024 and 67108864")
	}
	f.Store.validate(add) // postgres (store backends)
	if f.Keys.Algorithm != "ES256" && f.Keys.Algorithm != "RS256" {
		add("keys.algorithm", "must be ES256 or RS256")
	}
	if f.Keys.MasterKey == "" && f.Keys.MasterKeyFile == "" {
		add("keys.master_key", "set master_key (base64 of 32 bytes, e.g. from ${FEDGATE_MASTER_KEY}) or master_key_file")
	}
	if ttl := f.Keys.TokenTTL.D(); ttl < time.Minute || ttl > MaxTokenTTL {
		add("keys.token_ttl", "must be between 1m and 10m")
	}
	f.validatePublish(add)
	if !regionPattern.MatchString(f.STS.Region) {
		add("sts.region", "%q is not an AWS region name", f.STS.Region)
	}
	if !slices.Contains(arn.Flavors(), f.STS.Flavor) {
		add("sts.flavor", "unknown flavor %q (want aws or minio)", f.STS.Flavor)
	}
	if f.STS.Endpoint != "" {
		if u, err := url.Parse(f.STS.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("sts.endpoint", "must be an http(s) URL")
		}
	}
	providers := f.validateProviders(add)
	ps = append(ps, f.validatePools(providers)...)
	f.validateAdmin(providers, add)
	f.validateCLI(add)
	f.Cognito.validate(add)
	f.Audit.validate(add)
	f.validateSAMLBroker(add)
	return ps
}

func validatePublicURL(raw string, add func(string, string, ...any)) {
	validateIssuerURL("server.public_url", raw, add)
}

// validateIssuerURL holds an issuer URL to what IAM accepts.
func validateIssuerURL(key, raw string, add func(string, string, ...any)) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		add(key, "must be an absolute http(s) URL")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		add(key, "must not carry a query, fragment or user info (IAM refuses such issuers)")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		add(key, "must use https (IAM only trusts https issuers); plain http is allowed on loopback for local use")
	case u.Scheme == "https" && u.Port() != "":
		add(key, "must not carry a port: IAM OIDC issuers are https URLs without a port")
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (f *File) validateProviders(add func(string, string, ...any)) map[string]*Provider {
	byID := make(map[string]*Provider, len(f.Providers))
	for i := range f.Providers {
		p := &f.Providers[i]
		at := fmt.Sprintf("providers[%d]", i)
		if !providerIDPattern.MatchString(p.ID) {
			add(at+".id", "must be 1-63 lowercase letters, digits, '-' or '_'")
		} else if byID[p.ID] != nil {
			add(at+".id", "duplicate provider id %q", p.ID)
		}
		byID[p.ID] = p
		if p.Settings == nil {
			add(at+".type", "unknown provider type %q (supported: %s)", p.Type, strings.Join(registry.Names(), ", "))
			continue
		}
		for _, dp := range p.DecodeProblems(at) {
			add(dp.Path, "%s", dp.Message)
		}
		for _, sp := range p.Settings.Validate(f.site(p.ID)) {
			path := at
			if sp.Key != "" {
				path += "." + sp.Key
			}
			add(path, "%s", sp.Message)
		}
	}
	return byID
}

func (f *File) validatePools(providers map[string]*Provider) Problems {
	var ps Problems
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	ids, names := map[string]bool{}, map[string]bool{}
	rootAudiences := 0
	for i := range f.Pools {
		p := &f.Pools[i]
		at := fmt.Sprintf("pools[%d]", i)
		if !poolIDPattern.MatchString(p.ID) {
			add(at+".id", "must be REGION:UUID, e.g. us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11")
		} else if ids[p.ID] {
			add(at+".id", "duplicate pool id %q", p.ID)
		}
		ids[p.ID] = true
		if !poolNamePattern.MatchString(p.Name) {
			add(at+".name", "must be 1-63 lowercase letters, digits or '-'")
		} else if names[p.Name] {
			add(at+".name", "duplicate pool name %q", p.Name)
		}
		names[p.Name] = true
		if len(p.Providers) == 0 && p.DeveloperProviderName == "" {
			add(at+".providers", "a pool needs at least one provider (or a developer_provider_name)")
		}
		for j, id := range p.Providers {
			if providers[id] == nil {
				add(fmt.Sprintf("%s.providers[%d]", at, j), "unknown provider %q", id)
			}
		}
		validatePoolMode(at, p, providers, add)
		if p.DurationSeconds < MinDurationSeconds || p.DurationSeconds > MaxDurationSeconds {
			add(at+".duration_seconds", "must be between 900 and 43200 (STS limits)")
		}
		validateAccountAliases(at, p.AccountAliases, add)
		if n := len(p.DeveloperProviderName); n > 0 && (n > MaxDeveloperProviderName || !DeveloperProviderPattern.MatchString(p.DeveloperProviderName)) {
			add(at+".developer_provider_name", "must be 1-%d characters of letters, digits, '.', '_' and '-'", MaxDeveloperProviderName)
		}
		if p.AllowGuests {
			if !f.STS.Flavor.IsRole(p.UnauthenticatedRole) {
				add(at+".unauthenticated_role", "guests are allowed, so this must be a role ARN (%s)", f.STS.Flavor.RoleExample())
			}
		} else if p.UnauthenticatedRole != "" && !f.STS.Flavor.IsRole(p.UnauthenticatedRole) {
			add(at+".unauthenticated_role", "is not a role ARN (%s)", f.STS.Flavor.RoleExample())
		}
		if p.GuestTTL != 0 && p.GuestTTL.D() < minGuestTTL {
			add(at+".guest_ttl", "must be at least 1h")
		}
		if p.AuthenticatedRole != "" && !f.STS.Flavor.IsRole(p.AuthenticatedRole) {
			add(at+".authenticated_role", "is not a role ARN (%s)", f.STS.Flavor.RoleExample())
		}
		spec := p.RulesSpec()
		spec.RoleFlavor = f.STS.Flavor
		if _, problems := rules.Compile(spec); len(problems) > 0 {
			for _, rp := range problems {
				path := rp.Path
				if path == "default_role" {
					path = "authenticated_role"
				}
				add(at+"."+path, "%s", rp.Message)
			}
		}
		if !p.OwnIssuer {
			rootAudiences++
			if p.AllowGuests {
				rootAudiences++
			}
		}
	}
	validateOwnSAMLProviders(f.Pools, add)
	if rootAudiences > MaxAudiencesPerIssuer {
		add("pools", "%d audiences share the root issuer; IAM allows %d client ids per OIDC provider: set own_issuer: true on some pools", rootAudiences, MaxAudiencesPerIssuer)
	}
	return ps
}

// maxAccountAlias bounds an account alias, like IAM's own account alias.
const maxAccountAlias = 63

// validateAccountAliases checks that each alias names a 12-digit account
// with a short, printable name.
func validateAccountAliases(at string, aliases map[string]string, add func(string, string, ...any)) {
	for _, id := range slices.Sorted(maps.Keys(aliases)) {
		key := at + ".account_aliases." + id
		if !accountIDPattern.MatchString(id) {
			add(key, "%q is not a 12-digit AWS account id", id)
		}
		alias := aliases[id]
		if strings.TrimSpace(alias) == "" || len(alias) > maxAccountAlias || strings.ContainsFunc(alias, unicode.IsControl) {
			add(key, "the alias must be 1-%d printable characters", maxAccountAlias)
		}
	}
}

// site is where the provider id serves, for its defaults and checks.
func (f *File) site(id string) idp.Site { return idp.Site{ID: id, PublicURL: f.Server.PublicURL} }
