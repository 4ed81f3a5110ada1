package cognito

// UpdateIdentityPool and SetIdentityPoolRoles: Cognito's settings written
// onto a fedgate pool, as one configuration version each.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gin-gonic/gin"

	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/wire"
)

var fedgateOps = map[string]string{"Equals": "equals", "Contains": "contains", "StartsWith": "starts_with", "NotEqual": "not_equals"}

// updatePool applies change to one pool of the live mappings, audited as
// op by the signing key.
func (api *API) updatePool(c *gin.Context, poolID, op string, change func(p *config.Pool) *core.Error) *core.Error {
	ctx := c.Request.Context()
	if e := inScope(ctx, poolID, op); e != nil {
		return e
	}
	if _, e := api.pool(poolID); e != nil {
		return e
	}
	_, err := api.core.ChangeMappings(ctx, keyOf(ctx).actor(), poolID, "identity pool changed ("+op+")", func(m *config.Mappings) error {
		i := core.FindPool(m, poolID)
		if i < 0 {
			return apiError(ErrResourceNotFound, "IdentityPool '"+poolID+"' not found.", nil)
		}
		if e := change(&m.Pools[i]); e != nil {
			return e
		}
		return nil
	})
	if err != nil {
		return changeError(err)
	}
	return nil
}

// updateIdentityPool is UpdateIdentityPool: the name, guests, the classic
// flow and the login providers. Guests need the pool's unauthenticated
// role first (SetIdentityPoolRoles).
func (api *API) updateIdentityPool(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.CreateIdentityPoolInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityPoolId", in.IdentityPoolID, true); e != nil {
		return nil, e
	}
	if n := len(in.IdentityPoolName); n < 1 || n > 128 {
		return nil, validationError("identityPoolName", "Member must have length between 1 and 128")
	}
	hasDeveloper := in.DeveloperProviderName != ""
	if p := api.core.Snapshot().Pools[in.IdentityPoolID]; p != nil && p.Cfg.DeveloperProviderName != "" {
		hasDeveloper = true
	}
	providers, _, e := api.providersOfLogins(&in, hasDeveloper)
	if e != nil {
		return nil, e
	}
	e = api.updatePool(c, in.IdentityPoolID, "UpdateIdentityPool", func(p *config.Pool) *core.Error {
		if in.AllowUnauthenticatedIdentities && p.UnauthenticatedRole == "" {
			return apiError(ErrInvalidParameter, "fedgate needs the pool's unauthenticated role before it allows guests: set it with SetIdentityPoolRoles first.", nil)
		}
		// SAML providers are not Cognito login keys here: they stay.
		for _, id := range p.Providers {
			if prov := api.core.Snapshot().Providers[id]; prov != nil && prov.Cfg.Type != config.ProviderOIDC && !slices.Contains(providers, id) {
				providers = append(providers, id)
			}
		}
		// As in Cognito, a developer provider name once set stays: the
		// backend names its users by it. Leaving it out keeps it.
		if in.DeveloperProviderName != "" && p.DeveloperProviderName != "" && in.DeveloperProviderName != p.DeveloperProviderName {
			return apiError(ErrInvalidParameter, "The identity pool's DeveloperProviderName is '"+p.DeveloperProviderName+"' and cannot be changed.", nil)
		}
		if in.DeveloperProviderName != "" {
			p.DeveloperProviderName = in.DeveloperProviderName
		}
		p.DisplayName, p.AllowGuests, p.AllowClassicFlow, p.Providers = in.IdentityPoolName, in.AllowUnauthenticatedIdentities, in.AllowClassicFlow, providers
		return nil
	})
	if e != nil {
		return nil, e
	}
	pool, e := api.pool(in.IdentityPoolID)
	if e != nil {
		return nil, e
	}
	return describePool(pool), nil
}

// setIdentityPoolRoles is SetIdentityPoolRoles: Roles are the pool's
// authenticated and unauthenticated roles; RoleMappings become fedgate
// rules. fedgate's rules are the pool's, not a provider's, so every
// provider's mapping must be the same (Cognito tools usually write one
// mapping, or the same for each).
func (api *API) setIdentityPoolRoles(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.SetIdentityPoolRolesInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityPoolId", in.IdentityPoolID, true); e != nil {
		return nil, e
	}
	for k := range in.Roles {
		if k != "authenticated" && k != "unauthenticated" {
			return nil, validationError("roles", "Map keys must be authenticated or unauthenticated")
		}
	}
	var mapping *wire.RoleMapping
	var first []byte
	for key, m := range in.RoleMappings {
		b, _ := json.Marshal(m)
		if mapping != nil && !bytes.Equal(first, b) {
			return nil, noCognitoShape("fedgate's rules are the pool's, so every provider's RoleMapping must be the same; '" + key + "' differs")
		}
		mapping, first = &m, b
	}
	var spec struct {
		rules               []rules.RuleSpec
		resolution, noMatch string
		rolesClaim, prefer  string
	}
	if mapping != nil {
		spec.noMatch = rules.Deny
		switch mapping.AmbiguousRoleResolution {
		case "AuthenticatedRole":
			spec.noMatch = rules.DefaultRole
		case "Deny", "":
		default:
			return nil, validationError("roleMappings.ambiguousRoleResolution", "Member must be AuthenticatedRole or Deny")
		}
		switch mapping.Type {
		case "Token":
			spec.rolesClaim, spec.prefer = "cognito:roles", "cognito:preferred_role"
		case "Rules":
			if mapping.RulesConfiguration == nil || len(mapping.RulesConfiguration.Rules) == 0 || len(mapping.RulesConfiguration.Rules) > 25 {
				return nil, validationError("roleMappings.rulesConfiguration.rules", "Member must have length between 1 and 25")
			}
			spec.resolution = rules.FirstMatch
			for i, r := range mapping.RulesConfiguration.Rules {
				op, ok := fedgateOps[r.MatchType]
				if !ok {
					return nil, validationError("roleMappings.rulesConfiguration.rules.matchType", "Member must be Equals, Contains, StartsWith or NotEqual")
				}
				spec.rules = append(spec.rules, rules.RuleSpec{Name: fmt.Sprintf("rule %d", i+1),
					Match: []rules.Condition{{Claim: r.Claim, Op: op, Value: r.Value}}, Role: r.RoleARN})
			}
		default:
			return nil, validationError("roleMappings.type", "Member must be Token or Rules")
		}
	}
	e := api.updatePool(c, in.IdentityPoolID, "SetIdentityPoolRoles", func(p *config.Pool) *core.Error {
		p.AuthenticatedRole, p.UnauthenticatedRole = in.Roles["authenticated"], in.Roles["unauthenticated"]
		if p.UnauthenticatedRole == "" {
			p.AllowGuests = false
		}
		p.Rules, p.Resolution, p.NoMatch, p.RolesClaim, p.PreferredRoleClaim = spec.rules, spec.resolution, spec.noMatch, spec.rolesClaim, spec.prefer
		return nil
	})
	if e != nil {
		return nil, e
	}
	return struct{}{}, nil
}
