// Package cognitoimport turns an Amazon Cognito identity pool, as `aws
// cognito-identity describe-identity-pool` and `get-identity-pool-roles`
// print it, into a fedgate configuration: providers (with what only their
// owner knows left to fill in, and named), one pool with its roles and
// rules. What has no fedgate shape is reported, not guessed.
package cognitoimport

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"fedgate/gateway/wire"
)

// Pool is describe-identity-pool's output: the shape CreateIdentityPool
// takes.
type Pool = wire.CreateIdentityPoolInput

// Roles is get-identity-pool-roles' output.
type Roles = wire.GetIdentityPoolRolesOutput

// samlRoleAttribute carries a SAML login's roles, as Cognito's Token
// mapping reads them.
const samlRoleAttribute = "https://aws.amazon.com/SAML/Attributes/Role"

// FillIn marks a value the operator must replace; `fedgate check`
// accepts it, the IdP will not.
const FillIn = "FILL-IN"

// header is the part of the configuration Cognito has nothing to say
// about: where fedgate listens and keeps its state.
const header = `# Imported from the Amazon Cognito identity pool %[1]s by fedgate import-cognito.
# Replace every %[2]s value (fedgate import-cognito lists them) before serving.
server:
  listen: 127.0.0.1:8080
  public_url: https://%[2]s.example.com
store:
  driver: sqlite
  path: fedgate.db
keys:
  master_key: ${FEDGATE_MASTER_KEY}
`

// Result is the configuration and what the operator must know.
type Result struct {
	YAML []byte
	// Notes name each value to fill in and each Cognito setting without a
	// fedgate shape.
	Notes []string
}

type provider struct {
	ID          string `yaml:"id"`
	Type        string `yaml:"type"`
	DisplayName string `yaml:"display_name,omitempty"`
	Issuer      string `yaml:"issuer,omitempty"`
	ClientID    string `yaml:"client_id,omitempty"`
	MetadataURL string `yaml:"idp_metadata_url,omitempty"`
	IdPInit     bool   `yaml:"allow_idp_initiated,omitempty"`
}

type condition struct {
	Claim string `yaml:"claim"`
	Op    string `yaml:"op"`
	Value string `yaml:"value"`
}

type rule struct {
	Name  string      `yaml:"name"`
	Match []condition `yaml:"match"`
	Role  string      `yaml:"role"`
}

type pool struct {
	ID                  string   `yaml:"id"`
	Name                string   `yaml:"name"`
	Providers           []string `yaml:"providers"`
	Mode                string   `yaml:"mode,omitempty"`
	SAMLProviderARN     string   `yaml:"saml_provider_arn,omitempty"`
	AllowGuests         bool     `yaml:"allow_guests,omitempty"`
	UnauthenticatedRole string   `yaml:"unauthenticated_role,omitempty"`
	AuthenticatedRole   string   `yaml:"authenticated_role,omitempty"`
	AllowClassicFlow    bool     `yaml:"allow_classic_flow,omitempty"`
	DeveloperProvider   string   `yaml:"developer_provider_name,omitempty"`
	Resolution          string   `yaml:"resolution,omitempty"`
	NoMatch             string   `yaml:"no_match,omitempty"`
	RolesClaim          string   `yaml:"roles_claim,omitempty"`
	PreferredRoleClaim  string   `yaml:"preferred_role_claim,omitempty"`
	Rules               []rule   `yaml:"rules,omitempty"`
}

var (
	nonID        = regexp.MustCompile(`[^a-z0-9-]+`)
	matchTypes   = map[string]string{"Equals": "equals", "Contains": "contains", "StartsWith": "starts_with", "NotEqual": "not_equals"}
	socialLogins = map[string]string{"graph.facebook.com": "Facebook", "www.amazon.com": "Login with Amazon", "api.twitter.com": "Twitter", "www.digits.com": "Digits", "appleid.apple.com": ""}
)

// providerID makes a fedgate provider id from a login key.
func providerID(key string, taken map[string]bool) string {
	id := strings.Trim(nonID.ReplaceAllString(strings.ToLower(key), "-"), "-")
	if len(id) > 40 {
		id = strings.Trim(id[:40], "-")
	}
	base := id
	for i := 2; taken[id]; i++ {
		id = fmt.Sprintf("%s-%d", base, i)
	}
	taken[id] = true
	return id
}

// Convert reads the two JSON documents and writes the configuration.
func Convert(poolJSON, rolesJSON []byte) (*Result, error) {
	var p Pool
	if err := json.Unmarshal(poolJSON, &p); err != nil {
		return nil, fmt.Errorf("describe-identity-pool output: %w", err)
	}
	var r Roles
	if len(rolesJSON) > 0 {
		if err := json.Unmarshal(rolesJSON, &r); err != nil {
			return nil, fmt.Errorf("get-identity-pool-roles output: %w", err)
		}
		if r.IdentityPoolID != "" && r.IdentityPoolID != p.IdentityPoolID {
			return nil, fmt.Errorf("the roles are of pool %s, the pool is %s", r.IdentityPoolID, p.IdentityPoolID)
		}
	}
	if p.IdentityPoolID == "" {
		return nil, fmt.Errorf("describe-identity-pool output: no IdentityPoolId")
	}
	res := &Result{}
	note := func(format string, args ...any) { res.Notes = append(res.Notes, fmt.Sprintf(format, args...)) }
	taken := map[string]bool{}
	var providers []provider
	keyToID := map[string]string{}
	addOIDC := func(key, clientID string) {
		id := providerID(key, taken)
		keyToID[key] = id
		if clientID == "" {
			clientID = FillIn
			note("providers[%s].client_id: fill in the client id fedgate signs in with at %s", id, key)
		}
		providers = append(providers, provider{ID: id, Type: "oidc", Issuer: "https://" + key, ClientID: clientID})
		note("providers[%s]: add the app's client ids as extra_audiences, so its ID tokens are accepted as Logins under %q", id, key)
	}
	keys := make([]string, 0, len(p.SupportedLoginProviders))
	for k := range p.SupportedLoginProviders {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if name, social := socialLogins[key]; social && name != "" {
			note("SupportedLoginProviders %q (%s) is not an OpenID Connect issuer: fedgate cannot verify its tokens; left out", key, name)
			continue
		}
		addOIDC(key, p.SupportedLoginProviders[key])
	}
	for _, c := range p.CognitoIdentityProviders {
		addOIDC(c.ProviderName, c.ClientID)
	}
	for _, a := range p.OpenIDConnectProviderARNs {
		_, host, ok := strings.Cut(a, ":oidc-provider/")
		if !ok || host == "" {
			note("OpenIdConnectProviderARNs %q is not an IAM OIDC provider ARN; left out", a)
			continue
		}
		if _, done := keyToID[host]; !done {
			addOIDC(host, "")
		}
	}
	out := pool{ID: p.IdentityPoolID, Name: providerID(p.IdentityPoolName, map[string]bool{}), AllowClassicFlow: p.AllowClassicFlow}
	if out.Name == "" {
		out.Name = "imported"
	}
	for _, a := range p.SamlProviderARNs {
		if out.SAMLProviderARN != "" {
			note("SamlProviderARNs %q: a fedgate pool has one IAM SAML provider; only %s is kept", a, out.SAMLProviderARN)
			continue
		}
		_, name, _ := strings.Cut(a, ":saml-provider/")
		id := providerID("saml-"+name, taken)
		keyToID[a] = id
		providers = append(providers, provider{ID: id, Type: "saml", MetadataURL: "https://" + FillIn + "/saml/metadata", IdPInit: true})
		note("providers[%s].idp_metadata_url: fill in the SAML IdP's metadata URL (the one registered in IAM as %s)", id, a)
		if len(keyToID) > 1 {
			note("SamlProviderARNs %q: fedgate takes SAML logins in a pool of mode saml-forward; this pool keeps the OpenID Connect providers, so give the SAML provider a pool of its own", a)
			delete(keyToID, a)
			continue
		}
		out.Mode, out.SAMLProviderARN = "saml-forward", a
	}
	if len(p.IdentityPoolTags) > 0 {
		note("IdentityPoolTags: fedgate pools have no tags; left out")
	}
	switch {
	case p.DeveloperProviderName == "":
	case out.Mode != "":
		// saml-forward hands STS the SAML response; a developer login has none.
		note("DeveloperProviderName %q: developer-authenticated identities need fedgate's own tokens (the gateway-token mode); give them a pool of their own", p.DeveloperProviderName)
	default:
		out.DeveloperProvider = p.DeveloperProviderName
	}
	for _, pr := range providers {
		if _, used := keyToIDValue(keyToID, pr.ID); used {
			out.Providers = append(out.Providers, pr.ID)
		}
	}
	out.AuthenticatedRole, out.UnauthenticatedRole = r.Roles["authenticated"], r.Roles["unauthenticated"]
	out.AllowGuests = p.AllowUnauthenticatedIdentities && out.UnauthenticatedRole != ""
	if p.AllowUnauthenticatedIdentities && out.UnauthenticatedRole == "" {
		note("AllowUnauthenticatedIdentities is on but the pool has no unauthenticated role: guests left off")
	}
	mapKeys := make([]string, 0, len(r.RoleMappings))
	for k := range r.RoleMappings {
		mapKeys = append(mapKeys, k)
	}
	sort.Strings(mapKeys)
	noMatch := ""
	for _, key := range mapKeys {
		m := r.RoleMappings[key]
		from := keyToID[key]
		if i := strings.LastIndex(key, ":"); from == "" && i > 0 {
			from = keyToID[key[:i]] // a user pool's key ends in :<app client id>
		}
		if from == "" {
			note("RoleMappings %q: no provider of this pool has that key; its rules are left out", key)
			continue
		}
		resolution := "no_match: deny"
		if m.AmbiguousRoleResolution == "AuthenticatedRole" {
			resolution = "no_match: default_role"
		}
		if noMatch != "" && noMatch != resolution {
			note("RoleMappings %q: AmbiguousRoleResolution differs between providers; fedgate has one per pool (%s kept)", key, noMatch)
		}
		if noMatch == "" {
			noMatch = resolution
		}
		switch m.Type {
		case "Token":
			out.RolesClaim, out.PreferredRoleClaim = "cognito:roles", "cognito:preferred_role"
			if strings.Contains(key, ":saml-provider/") {
				out.RolesClaim, out.PreferredRoleClaim = samlRoleAttribute, ""
			}
		case "Rules":
			if m.RulesConfiguration == nil {
				return nil, fmt.Errorf("RoleMappings %q: type Rules without RulesConfiguration", key)
			}
			for i, cr := range m.RulesConfiguration.Rules {
				op, ok := matchTypes[cr.MatchType]
				if !ok {
					return nil, fmt.Errorf("RoleMappings %q rule %d: unknown MatchType %q", key, i+1, cr.MatchType)
				}
				out.Rules = append(out.Rules, rule{Name: fmt.Sprintf("%s rule %d", from, i+1), Match: []condition{{Claim: cr.Claim, Op: op, Value: cr.Value}}, Role: cr.RoleARN})
			}
		default:
			return nil, fmt.Errorf("RoleMappings %q: unknown Type %q", key, m.Type)
		}
	}
	if len(mapKeys) > 1 {
		note("RoleMappings of several providers: fedgate's rules test the claims of whichever provider signed in; rules are named after the provider they came from")
	}
	if len(out.Rules) > 0 {
		out.Resolution = "first_match"
	}
	if noMatch == "no_match: default_role" && out.AuthenticatedRole != "" {
		out.NoMatch = "default_role"
	} else if len(out.Rules) > 0 || out.RolesClaim != "" {
		out.NoMatch = "deny"
	} else if out.AuthenticatedRole != "" {
		out.NoMatch = "default_role"
	}
	body, err := yaml.Marshal(struct {
		Providers []provider `yaml:"providers"`
		Pools     []pool     `yaml:"pools"`
	}{providers, []pool{out}})
	if err != nil {
		return nil, err
	}
	res.YAML = append([]byte(fmt.Sprintf(header, p.IdentityPoolID, FillIn)), body...)
	return res, nil
}

func keyToIDValue(m map[string]string, id string) (string, bool) {
	for k, v := range m {
		if v == id {
			return k, true
		}
	}
	return "", false
}
