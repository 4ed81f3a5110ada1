package core

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"fedgate/exchange"
	"fedgate/exchange/arn"
	"fedgate/exchange/modes"
	"fedgate/gateway/config"
	"fedgate/idp"
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
	spec, ok := modes.Lookup(pool.Mode)
	if !ok {
		return nil, fmt.Errorf("pool %q has the unknown exchange mode %q", pool.Name, pool.Mode)
	}
	rep := &TrustReport{Pool: *pool, IssuerURL: f.IssuerURL(pool)}
	if spec.Trust == exchange.TrustUpstreamOIDC {
		rep.Warnings = append(rep.Warnings, spec.Name+" mode: STS checks the IdP's own ID token, so anyone holding an ID token for these client ids "+
			"can assume every role below directly with STS, whatever fedgate's rules say."+useInstead(spec, " when the rules must hold"))
	}
	if pool.AllowClassicFlow {
		rep.Warnings = append(rep.Warnings, "allow_classic_flow hands apps tokens with this pool's audience (GetOpenIdToken): "+
			"every role below can then be assumed by any signed-in member, whatever the rules say. "+
			"Give this pool only roles every member may have, or turn the classic flow off.")
	}
	// Only a mode that signs what STS reads can hand it tags to check.
	tagged := len(pool.PrincipalTags) > 0
	for _, r := range pool.Rules {
		if len(r.Tags) > 0 {
			tagged = true
		}
	}
	tagged = tagged && spec.SessionTags
	roles := map[string]string{}
	addRole := func(role, why string) {
		if role == "" {
			return
		}
		if roles[role] == "" {
			roles[role] = why
		} else if !strings.Contains(roles[role], why) {
			roles[role] += "; " + why
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
	for _, roleARN := range arns {
		var doc policyDocument
		switch spec.Trust {
		case exchange.TrustUpstreamOIDC:
			doc = upstreamTrust(f, pool, roleARN)
		case exchange.TrustSAMLProvider:
			doc = samlTrust(f, pool, spec, tagged)
		case exchange.TrustGatewayOIDC:
			doc = webIdentityTrust(roleARN, rep.IssuerURL, pool.Audience(), tagged)
		}
		rep.Roles = append(rep.Roles, RoleTrust{RoleARN: roleARN, Why: roles[roleARN], Policy: MustJSON(doc)})
	}
	if pool.AllowGuests && pool.UnauthenticatedRole != "" {
		rep.Roles = append(rep.Roles, RoleTrust{
			RoleARN: pool.UnauthenticatedRole, Why: "unauthenticated_role (guests)",
			Policy: MustJSON(webIdentityTrust(pool.UnauthenticatedRole, rep.IssuerURL, pool.GuestAudience(), false)),
		})
	}
	switch spec.Trust {
	case exchange.TrustGatewayOIDC:
		rep.RegisterIn = registerCommand(rep.IssuerURL, issuerAudiences(f, pool, pool.Audience()))
	case exchange.TrustSAMLProvider:
		samlRegistration(f, pool, spec, rep)
	}
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
		if spec, _ := modes.Lookup(p.Mode); p.OwnIssuer || spec.Trust != exchange.TrustGatewayOIDC {
			continue
		}
		auds = append(auds, p.Audience())
		if p.AllowGuests {
			auds = append(auds, p.GuestAudience())
		}
	}
	return auds
}

// useInstead names the first registered mode that calls the same STS
// action as spec but signs what STS reads, for messages; "" when none does.
func useInstead(spec exchange.ModeSpec, when string) string {
	if alt, ok := modes.Signing(spec.Trust.STSAction()); ok {
		return " Use " + alt.Name + " mode" + when + "."
	}
	return ""
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
// statement per provider of the pool whose ID tokens go to STS, on its
// client id.
func upstreamTrust(f *config.File, pool *config.Pool, roleARN string) policyDocument {
	var stmts []policyStatement
	for _, id := range pool.Providers {
		for _, p := range f.Providers {
			client, ok := p.Settings.(idp.ClientConfig)
			if p.ID != id || !ok {
				continue
			}
			key := issuerKey(client.IssuerURL())
			stmts = append(stmts, federatedStatement(oidcProviderARN(roleARN, key), "sts:AssumeRoleWithWebIdentity", key+":aud", client.Client()))
		}
	}
	return trustPolicy(stmts...)
}

// MustJSON is v as indented JSON, for policies built from plain data.
func MustJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return string(b)
}
