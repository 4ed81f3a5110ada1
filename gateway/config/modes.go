package config

import (
	"fmt"
	"strings"

	"fedgate/exchange"
	"fedgate/exchange/arn"
	"fedgate/exchange/modes"
	"fedgate/exchange/modes/gatewaytoken"
	"fedgate/exchange/modes/samlbroker"
	"fedgate/exchange/modes/samlforward"
	"fedgate/exchange/modes/upstreamtoken"
)

// Exchange mode names, for code that compares a pool's mode. What a mode
// needs and allows comes from its spec in the registry (exchange/modes),
// which the checks below follow.
const (
	ModeGatewayToken  = gatewaytoken.Name
	ModeUpstreamToken = upstreamtoken.Name
	ModeSAMLForward   = samlforward.Name
	ModeSAMLBroker    = samlbroker.Name
)

// validatePoolMode checks a pool against what its exchange mode needs and
// allows; byID are the file's providers. An unknown mode is reported, and
// checked as a mode that allows nothing optional.
func validatePoolMode(at string, p *Pool, byID map[string]*Provider, add func(string, string, ...any)) {
	spec, known := modes.Lookup(p.Mode)
	if !known {
		add(at+".mode", "unknown exchange mode %q (supported: %s)", p.Mode, strings.Join(modes.Names(), ", "))
	}
	for j, id := range p.Providers {
		if prov := byID[id]; prov != nil && !spec.AcceptsProvider(prov.Type) {
			add(fmt.Sprintf("%s.providers[%d]", at, j), "%s; provider %q is %s", acceptedProviders(spec), id, prov.Type)
		}
	}
	if p.DeveloperProviderName != "" && known && spec.Forwards != exchange.ForwardNothing {
		add(at+".developer_provider_name", "developer-authenticated identities need a mode that mints fedgate's own token (%s mode forwards the upstream credential)", spec.Name)
	}
	if p.AllowGuests && !spec.Guests {
		add(at+".allow_guests", "guest identities need the %s mode", modeNames(func(s exchange.ModeSpec) bool { return s.Guests }, "or"))
	}
	// An unknown mode's tags are left alone: the mode is the mistake.
	if known && !spec.SessionTags {
		instead := ""
		if alt, ok := modes.Signing(spec.Trust.STSAction()); ok {
			instead = "; use " + alt.Name + " mode"
		}
		if len(p.PrincipalTags) > 0 {
			add(at+".principal_tags", "%s%s", noSessionTags(spec), instead)
		}
		for j, r := range p.Rules {
			if len(r.Tags) > 0 {
				add(fmt.Sprintf("%s.rules[%d].tags", at, j), "%s mode cannot add session tags%s", spec.Name, instead)
			}
		}
	}
	switch {
	case !spec.SAMLProvider && p.SAMLProviderARN != "":
		names := modeNames(func(s exchange.ModeSpec) bool { return s.SAMLProvider }, "and")
		if strings.Contains(names, " and ") {
			add(at+".saml_provider_arn", "only the %s modes use an IAM SAML provider", names)
		} else {
			add(at+".saml_provider_arn", "only the %s mode uses an IAM SAML provider", names)
		}
	case spec.SAMLProvider && !arn.IsSAMLProvider(p.SAMLProviderARN):
		add(at+".saml_provider_arn", "the %s mode needs the IAM SAML provider ARN, e.g. arn:aws:iam::123456789012:saml-provider/fedgate", p.Mode)
	}
}

// acceptedProviders says which providers a mode takes, and why when it
// forwards their credential.
func acceptedProviders(spec exchange.ModeSpec) string {
	switch spec.Forwards {
	case exchange.ForwardIDToken:
		return spec.Name + " mode forwards an OIDC ID token"
	case exchange.ForwardSAMLResponse:
		return spec.Name + " mode forwards the IdP's SAML response"
	}
	return spec.Name + " mode takes only " + strings.Join(spec.ProviderTypes, " or ") + " providers"
}

// noSessionTags says why a mode cannot add session tags: what STS reads
// is the upstream's, signed by the IdP.
func noSessionTags(spec exchange.ModeSpec) string {
	switch spec.Forwards {
	case exchange.ForwardIDToken:
		return spec.Name + " mode forwards the IdP's token unchanged, so fedgate cannot add session tags"
	case exchange.ForwardSAMLResponse:
		return spec.Name + " mode forwards the IdP's response unchanged, so fedgate cannot add session tags"
	}
	return spec.Name + " mode cannot add session tags"
}

// modeNames lists the registered modes that have a property: "a", "a and
// b", "a, b and c" (or with "or").
func modeNames(has func(exchange.ModeSpec) bool, conj string) string {
	var names []string
	for _, s := range modes.All() {
		if has(s) {
			names = append(names, s.Name)
		}
	}
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + conj + " " + names[len(names)-1]
}

// validateOwnSAMLProviders refuses pools of a mode that needs an IAM SAML
// provider of its own (saml-broker) sharing one: every broker response
// carries the same issuer, key and audience, so a role trusting that
// provider would trust every such pool, and one pool's users could be
// handed another pool's roles.
func validateOwnSAMLProviders(pools []Pool, add func(string, string, ...any)) {
	first := map[string]*Pool{}
	for i := range pools {
		p := &pools[i]
		spec, _ := modes.Lookup(p.Mode)
		if !spec.OwnSAMLProvider || p.SAMLProviderARN == "" {
			continue
		}
		if other, ok := first[p.SAMLProviderARN]; ok {
			add(fmt.Sprintf("pools[%d].saml_provider_arn", i), "the %s pool %q already uses this IAM SAML provider; give each %s pool its own, or its roles would trust both pools", other.Mode, other.Name, p.Mode)
			continue
		}
		first[p.SAMLProviderARN] = p
	}
}
