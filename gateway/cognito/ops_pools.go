package cognito

// Identity pool management (signed), mapped onto fedgate's pools: each
// change is one configuration version with history and audit, as an admin
// edit is. Where a fedgate feature has no Cognito shape, the operation
// says so instead of answering half.

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
	"fedgate/gateway/wire"
)

var (
	poolNameChars = regexp.MustCompile(`[^a-z0-9-]+`)
	poolARN       = regexp.MustCompile(`^arn:aws[\w-]*:cognito-identity:[\w-]+:\d{12}:identitypool/([\w-]+:[0-9a-f-]+)$`)
	cognitoOps    = map[string]string{"equals": "Equals", "contains": "Contains", "starts_with": "StartsWith", "not_equals": "NotEqual"}
)

// changeError maps a refused configuration change.
func changeError(err error) *core.Error {
	var problems config.Problems
	switch {
	case errors.As(err, &problems):
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.Path + ": " + p.Message
		}
		return apiError(ErrInvalidParameter, "fedgate cannot store this pool: "+strings.Join(msgs, "; ")+".", err)
	case errors.Is(err, store.ErrConflict):
		return apiError(ErrResourceConflict, "The configuration changed meanwhile; try again.", err)
	}
	var e *core.Error
	if errors.As(err, &e) {
		return e
	}
	return apiError(ErrInternalError, "An internal error occurred.", err)
}

// providersOfLogins finds the fedgate providers a Cognito pool's login
// settings name: each login key or ARN must be a provider's. A pool with
// a developer provider (hasDeveloper) needs no other.
func (api *API) providersOfLogins(in *wire.CreateIdentityPoolInput, hasDeveloper bool) ([]string, string, *core.Error) {
	if len(in.IdentityPoolTags) > 0 {
		return nil, "", apiError(ErrInvalidParameter, msgNoTags, nil)
	}
	if in.DeveloperProviderName != "" {
		if e := checkDeveloperProviderName("developerProviderName", in.DeveloperProviderName, config.MaxDeveloperProviderName); e != nil {
			return nil, "", e
		}
	}
	keys := make([]string, 0, len(in.SupportedLoginProviders))
	for k := range in.SupportedLoginProviders {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, a := range in.OpenIDConnectProviderARNs {
		_, host, _ := strings.Cut(a, ":oidc-provider/")
		keys = append(keys, host)
	}
	for _, c := range in.CognitoIdentityProviders {
		keys = append(keys, c.ProviderName)
	}
	if len(in.SamlProviderARNs) > 1 {
		return nil, "", apiError(ErrInvalidParameter, "A fedgate pool has one IAM SAML provider; give one SamlProviderARN.", nil)
	}
	samlARN := ""
	if len(in.SamlProviderARNs) == 1 {
		samlARN = in.SamlProviderARNs[0]
	}
	snap := api.core.Snapshot()
	var ids []string
	for _, key := range keys {
		found := ""
		for _, p := range snap.Providers {
			if p.Cfg.Type == config.ProviderOIDC && issuerLoginKey(p.Cfg.Issuer()) == key {
				found = p.Cfg.ID
			}
		}
		if found == "" {
			return nil, "", apiError(ErrInvalidParameter, "No fedgate provider has the login key '"+key+"': add an oidc provider with that issuer first.", nil)
		}
		if !slices.Contains(ids, found) {
			ids = append(ids, found)
		}
	}
	if samlARN != "" {
		return nil, "", apiError(ErrInvalidParameter, "Pools with SAML logins are created in fedgate's admin (a saml provider and the saml-forward mode).", nil)
	}
	if len(ids) == 0 && !hasDeveloper {
		return nil, "", apiError(ErrInvalidParameter, "A fedgate pool needs at least one login provider (SupportedLoginProviders, OpenIdConnectProviderARNs or DeveloperProviderName).", nil)
	}
	return ids, samlARN, nil
}

// createIdentityPool is CreateIdentityPool: a new fedgate pool with the
// providers the login settings name, no roles yet (its credentials are
// refused until roles are set in fedgate). Keys of one pool cannot.
func (api *API) createIdentityPool(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.CreateIdentityPoolInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	ctx := c.Request.Context()
	key := keyOf(ctx)
	if key.PoolID != "" {
		return nil, apiError(ErrAccessDenied, "User: "+key.ID+" is not authorized to perform: cognito-identity:CreateIdentityPool (the access key is for pool "+key.PoolID+").", nil)
	}
	if n := len(in.IdentityPoolName); n < 1 || n > 128 {
		return nil, validationError("identityPoolName", "Member must have length between 1 and 128")
	}
	if in.AllowUnauthenticatedIdentities {
		return nil, apiError(ErrInvalidParameter, "fedgate needs a pool's unauthenticated role before it allows guests: create the pool without AllowUnauthenticatedIdentities and set its roles in fedgate.", nil)
	}
	providers, _, e := api.providersOfLogins(&in, in.DeveloperProviderName != "")
	if e != nil {
		return nil, e
	}
	u, err := uuid.NewRandomFromReader(api.core.Rand())
	if err != nil {
		return nil, apiError(ErrInternalError, "An internal error occurred.", err)
	}
	id := key.Region + ":" + u.String()
	name := strings.Trim(poolNameChars.ReplaceAllString(strings.ToLower(in.IdentityPoolName), "-"), "-")
	if len(name) > 50 {
		name = strings.Trim(name[:50], "-")
	}
	pool := config.Pool{ID: id, DisplayName: in.IdentityPoolName, Providers: providers, AllowClassicFlow: in.AllowClassicFlow,
		DeveloperProviderName: in.DeveloperProviderName}
	_, err = api.core.ChangeMappings(ctx, key.actor(), id, fmt.Sprintf("identity pool %q created (CreateIdentityPool)", in.IdentityPoolName), func(m *config.Mappings) error {
		pool.Name = name
		for i := 2; name == "" || core.FindPool(m, pool.Name) >= 0; i++ {
			pool.Name = fmt.Sprintf("%s-%d", name, i)
		}
		m.Pools = append(m.Pools, pool)
		return nil
	})
	if err != nil {
		return nil, changeError(err)
	}
	p, e := api.pool(id)
	if e != nil {
		return nil, e
	}
	core.NoteAudit(ctx, core.AuditNote{Pool: id})
	return describePool(p), nil
}

// deleteIdentityPool is DeleteIdentityPool: the pool leaves the
// configuration (a version, restorable from history); its identities stay
// stored, unused.
func (api *API) deleteIdentityPool(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.DescribeIdentityPoolInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityPoolId", in.IdentityPoolID, true); e != nil {
		return nil, e
	}
	ctx := c.Request.Context()
	if e := inScope(ctx, in.IdentityPoolID, "DeleteIdentityPool"); e != nil {
		return nil, e
	}
	if _, e := api.pool(in.IdentityPoolID); e != nil {
		return nil, e
	}
	_, err := api.core.ChangeMappings(ctx, keyOf(ctx).actor(), in.IdentityPoolID, "identity pool deleted (DeleteIdentityPool)", func(m *config.Mappings) error {
		i := core.FindPool(m, in.IdentityPoolID)
		if i < 0 {
			return apiError(ErrResourceNotFound, "IdentityPool '"+in.IdentityPoolID+"' not found.", nil)
		}
		m.Pools = slices.Delete(m.Pools, i, i+1)
		return nil
	})
	if err != nil {
		return nil, changeError(err)
	}
	return struct{}{}, nil
}

// getIdentityPoolRoles is GetIdentityPoolRoles: the pool's roles and, when
// its rules have Cognito's shape (one equals, contains, starts_with or
// not_equals test each, nothing more), its rules as a Rules mapping for
// each OpenID Connect login key, or its roles claim as a Token mapping.
func (api *API) getIdentityPoolRoles(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.DescribeIdentityPoolInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityPoolId", in.IdentityPoolID, true); e != nil {
		return nil, e
	}
	if e := inScope(c.Request.Context(), in.IdentityPoolID, "GetIdentityPoolRoles"); e != nil {
		return nil, e
	}
	pool, e := api.pool(in.IdentityPoolID)
	if e != nil {
		return nil, e
	}
	cfg := pool.Cfg
	out := wire.GetIdentityPoolRolesOutput{IdentityPoolID: cfg.ID, Roles: map[string]string{}}
	if cfg.AuthenticatedRole != "" {
		out.Roles["authenticated"] = cfg.AuthenticatedRole
	}
	if cfg.UnauthenticatedRole != "" {
		out.Roles["unauthenticated"] = cfg.UnauthenticatedRole
	}
	if len(cfg.Rules) == 0 && cfg.RolesClaim == "" {
		return out, nil
	}
	ambiguous := "Deny"
	if cfg.NoMatch == rules.DefaultRole {
		ambiguous = "AuthenticatedRole"
	}
	var mapping wire.RoleMapping
	switch {
	case cfg.RolesClaim != "" && len(cfg.Rules) > 0:
		return nil, noCognitoShape("it has both rules and a roles claim")
	case cfg.RolesClaim != "":
		mapping = wire.RoleMapping{Type: "Token", AmbiguousRoleResolution: ambiguous}
	default:
		if cfg.Resolution == rules.AllMatches {
			return nil, noCognitoShape("its rules offer every match (all_matches), where Cognito takes the first")
		}
		rc := &wire.RulesConfiguration{}
		for i, r := range cfg.Rules {
			op := ""
			if len(r.Match) == 1 {
				op = cognitoOps[r.Match[0].Op]
			}
			if op == "" || r.CEL != "" || r.SessionPolicy != "" || r.DurationSeconds != 0 || len(r.Tags) > 0 || len(r.Match[0].Values) > 0 {
				return nil, noCognitoShape(fmt.Sprintf("rule %d (%s) is more than one equals, contains, starts_with or not_equals test", i+1, r.Name))
			}
			rc.Rules = append(rc.Rules, wire.MappingRule{Claim: r.Match[0].Claim, MatchType: op, Value: r.Match[0].Value, RoleARN: r.Role})
		}
		mapping = wire.RoleMapping{Type: "Rules", AmbiguousRoleResolution: ambiguous, RulesConfiguration: rc}
	}
	out.RoleMappings = map[string]wire.RoleMapping{}
	for _, p := range pool.Providers {
		if key, _, ok := poolLoginKey(pool, p); ok {
			out.RoleMappings[key] = mapping
		}
	}
	return out, nil
}

func noCognitoShape(why string) *core.Error {
	return apiError(ErrInvalidParameter, "This pool's role mapping has no Cognito shape: "+why+". Read it with fedgate's admin API.", nil)
}

// getPrincipalTagAttributeMap is GetPrincipalTagAttributeMap: fedgate's
// principal tags are the pool's, the same for each of its providers.
func (api *API) getPrincipalTagAttributeMap(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.PrincipalTagAttributeMapInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityPoolId", in.IdentityPoolID, true); e != nil {
		return nil, e
	}
	if e := inScope(c.Request.Context(), in.IdentityPoolID, "GetPrincipalTagAttributeMap"); e != nil {
		return nil, e
	}
	pool, e := api.pool(in.IdentityPoolID)
	if e != nil {
		return nil, e
	}
	for _, p := range pool.Providers {
		if key, _, ok := poolLoginKey(pool, p); ok && key == in.IdentityProviderName {
			tags := pool.Cfg.PrincipalTags
			if tags == nil {
				tags = map[string]string{}
			}
			return wire.PrincipalTagAttributeMapOutput{IdentityPoolID: pool.Cfg.ID, IdentityProviderName: in.IdentityProviderName,
				UseDefaults: maps.Equal(tags, defaultPrincipalTags), PrincipalTags: tags}, nil
		}
	}
	return nil, apiError(ErrResourceNotFound, "The identity pool has no provider '"+in.IdentityProviderName+"'.", nil)
}

// listTagsForResource is ListTagsForResource: fedgate pools have no tags.
func (api *API) listTagsForResource(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.ResourceARNInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	m := poolARN.FindStringSubmatch(in.ResourceARN)
	if m == nil {
		return nil, validationError("resourceArn", "Member must be an identity pool ARN (arn:aws:cognito-identity:REGION:ACCOUNT:identitypool/ID)")
	}
	if e := inScope(c.Request.Context(), m[1], "ListTagsForResource"); e != nil {
		return nil, e
	}
	if _, e := api.pool(m[1]); e != nil {
		return nil, e
	}
	return wire.ListTagsForResourceOutput{Tags: map[string]string{}}, nil
}
