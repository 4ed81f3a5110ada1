package core

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"fedgate/exchange/arn"
	"fedgate/gateway/config"
)

// RoleTrust is the trust policy one role needs for one pool.
type RoleTrust struct {
	RoleARN string
	Why     string // which part of the pool hands this role out
	Policy  string // JSON, ready for `aws iam create-role --assume-role-policy-document`
}

// TrustReport is what an admin needs to register fedgate with IAM for one pool.
type TrustReport struct {
	Pool       config.Pool
	IssuerURL  string
	Roles      []RoleTrust
	RegisterIn string // the aws iam create-open-id-connect-provider command
	// RegisterWhat says what RegisterIn registers (default: fedgate as an
	// IAM OIDC identity provider).
	RegisterWhat string
	// Warnings are things about the pool an admin must know before trusting it.
	Warnings []string
}

// TrustPolicies builds the report for a pool (by id or name).
func TrustPolicies(f *config.File, poolKey string) (*TrustReport, error) {
	var pool *config.Pool
	for i := range f.Pools {
		if f.Pools[i].ID == poolKey || f.Pools[i].Name == poolKey {
			pool = &f.Pools[i]
		}
	}
	if pool == nil {
		return nil, fmt.Errorf("no pool %q in the configuration", poolKey)
	}
	rep := &TrustReport{Pool: *pool, IssuerURL: f.IssuerURL(pool)}
	if pool.Mode == config.ModeUpstreamToken {
		rep.Warnings = append(rep.Warnings, "upstream-token mode: STS checks the IdP's own ID token, so anyone holding an ID token for these client ids "+
			"can assume every role below directly with STS, whatever fedgate's rules say. Use gateway-token mode when the rules must hold.")
	}
	if pool.AllowClassicFlow {
		rep.Warnings = append(rep.Warnings, "allow_classic_flow hands apps tokens with this pool's audience (GetOpenIdToken): "+
			"every role below can then be assumed by any signed-in member, whatever the rules say. "+
			"Give this pool only roles every member may have, or turn the classic flow off.")
	}
	tagged := len(pool.PrincipalTags) > 0
	for _, r := range pool.Rules {
		if len(r.Tags) > 0 {
			tagged = true
		}
	}
	roles := map[string]string{}
	addRole := func(arn, why string) {
		if arn == "" {
			return
		}
		if roles[arn] == "" {
			roles[arn] = why
		} else if !strings.Contains(roles[arn], why) {
			roles[arn] += "; " + why
		}
	}
	for i, r := range pool.Rules {
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		addRole(r.Role, "rule "+name)
	}
	if pool.NoMatch == "default_role" {
		addRole(pool.AuthenticatedRole, "authenticated_role (no rule matched)")
	}
	arns := make([]string, 0, len(roles))
	for a := range roles {
		arns = append(arns, a)
	}
	sort.Strings(arns)
	var providerURL, audience string
	for _, arn := range arns {
		var doc policyDocument
		switch pool.Mode {
		case config.ModeUpstreamToken:
			doc = upstreamTrust(f, pool, arn)
		case config.ModeSAMLForward, config.ModeSAMLBroker: // saml (issue 3)
			doc = samlTrust(f, pool, tagged)
		default:
			providerURL, audience = rep.IssuerURL, pool.Audience()
			doc = webIdentityTrust(arn, rep.IssuerURL, pool.Audience(), tagged)
		}
		rep.Roles = append(rep.Roles, RoleTrust{RoleARN: arn, Why: roles[arn], Policy: MustJSON(doc)})
	}
	if pool.AllowGuests && pool.UnauthenticatedRole != "" {
		rep.Roles = append(rep.Roles, RoleTrust{
			RoleARN: pool.UnauthenticatedRole, Why: "unauthenticated_role (guests)",
			Policy: MustJSON(webIdentityTrust(pool.UnauthenticatedRole, rep.IssuerURL, pool.GuestAudience(), false)),
		})
	}
	if providerURL == "" && pool.Mode == config.ModeGatewayToken {
		providerURL, audience = rep.IssuerURL, pool.Audience()
	}
	if pool.Mode == config.ModeGatewayToken {
		rep.RegisterIn = registerCommand(providerURL, issuerAudiences(f, pool, audience))
	}
	samlRegistration(f, pool, rep) // saml (issue 3)
	return rep, nil
}

// issuerAudiences lists every client id the IAM OIDC provider for this
// pool's issuer must know: all pools sharing the issuer, guests included.
func issuerAudiences(f *config.File, pool *config.Pool, own string) []string {
	if pool.OwnIssuer {
		auds := []string{own}
		if pool.AllowGuests {
			auds = append(auds, pool.GuestAudience())
		}
		return auds
	}
	var auds []string
	for i := range f.Pools {
		p := &f.Pools[i]
		if p.OwnIssuer || p.Mode != config.ModeGatewayToken {
			continue
		}
		auds = append(auds, p.Audience())
		if p.AllowGuests {
			auds = append(auds, p.GuestAudience())
		}
	}
	return auds
}

func registerCommand(issuerURL string, audiences []string) string {
	return "aws iam create-open-id-connect-provider --url " + issuerURL + " --client-id-list " + strings.Join(audiences, " ")
}

// issuerKey is how IAM names an OIDC provider: host plus path, no scheme.
func issuerKey(issuerURL string) string {
	u, err := url.Parse(issuerURL)
	if err != nil {
		return issuerURL
	}
	return u.Host + strings.TrimRight(u.Path, "/")
}

// accountOf and partitionOf fill in a provider ARN from the role's; a role
// ARN that does not parse leaves a placeholder for the admin to edit.
func accountOf(roleARN string) string {
	if a := arn.Account(roleARN); a != "" {
		return a
	}
	return "ACCOUNT_ID"
}

func partitionOf(roleARN string) string {
	if p := arn.Partition(roleARN); p != "" {
		return p
	}
	return "aws"
}

// policyDocument is an IAM policy in the order people write them.
type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal"`
	Action    any                          `json:"Action"`
	Condition map[string]map[string]string `json:"Condition"`
}

// trustPolicy allows federated to assume the role with actions when the
// condition key equals value.
func trustPolicy(statements ...policyStatement) policyDocument {
	return policyDocument{Version: "2012-10-17", Statement: statements}
}

func federatedStatement(federated string, actions any, condKey, value string) policyStatement {
	return policyStatement{
		Effect:    "Allow",
		Principal: map[string]string{"Federated": federated},
		Action:    actions,
		Condition: map[string]map[string]string{"StringEquals": {condKey: value}},
	}
}

func oidcProviderARN(roleARN, issuerKey string) string {
	return fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", partitionOf(roleARN), accountOf(roleARN), issuerKey)
}

// webIdentityTrust trusts fedgate's IAM OIDC provider for one audience.
// IAM evaluates only aud and sub for a custom issuer, so the audience is
// what separates pools and guests.
func webIdentityTrust(roleARN, issuerURL, audience string, tagged bool) policyDocument {
	key := issuerKey(issuerURL)
	actions := []string{"sts:AssumeRoleWithWebIdentity"}
	if tagged {
		actions = append(actions, "sts:TagSession")
	}
	return trustPolicy(federatedStatement(oidcProviderARN(roleARN, key), actions, key+":aud", audience))
}

// upstreamTrust trusts the upstream IdP itself (upstream-token mode): one
// statement per OIDC provider of the pool, on its client id.
func upstreamTrust(f *config.File, pool *config.Pool, roleARN string) policyDocument {
	var stmts []policyStatement
	for _, id := range pool.Providers {
		for _, p := range f.Providers {
			if p.ID != id || p.Type != config.ProviderOIDC {
				continue
			}
			key := issuerKey(p.Issuer)
			stmts = append(stmts, federatedStatement(oidcProviderARN(roleARN, key), "sts:AssumeRoleWithWebIdentity", key+":aud", p.ClientID))
		}
	}
	return trustPolicy(stmts...)
}

func MustJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return string(b)
}
