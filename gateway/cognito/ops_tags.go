package cognito

// SetPrincipalTagAttributeMap, TagResource and UntagResource. fedgate's
// principal tags are the pool's (principal_tags), the same whichever of
// its providers signed in, so setting them for one provider sets them for
// all. fedgate pools carry no resource tags: Cognito uses them for cost
// allocation and for IAM conditions on who may manage the pool, and
// neither exists here (an access key's role and pool decide), so tags are
// refused rather than stored to no effect; untagging, which asks for a
// state the pool is already in, succeeds.

import (
	"maps"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/wire"
)

// defaultPrincipalTags is Cognito's default attribute mapping for OpenID
// Connect providers: the user name from sub, the client id from aud.
var defaultPrincipalTags = map[string]string{"username": "sub", "client": "aud"}

// msgNoTags is the refusal of tags on a pool.
const msgNoTags = "fedgate identity pools do not take tags: there is no cost allocation, and access keys (their role and pool), not tags, decide who manages a pool. Name and describe pools with IdentityPoolName instead."

// poolProvider checks that name is the login key of one of pool's
// providers, the way GetPrincipalTagAttributeMap names them.
func poolProvider(pool *core.Pool, name string) *core.Error {
	for _, p := range pool.Providers {
		if key, _, ok := poolLoginKey(pool, p); ok && key == name {
			return nil
		}
	}
	return apiError(ErrResourceNotFound, "The identity pool has no provider '"+name+"'.", nil)
}

// checkPrincipalTags applies the API's limits on a tag map.
func checkPrincipalTags(member string, tags map[string]string) *core.Error {
	if len(tags) > 50 {
		return validationError(member, "Map must have at most 50 entries")
	}
	for k, v := range tags {
		if n := len([]rune(k)); n < 1 || n > 128 {
			return validationError(member, "Map keys must have length between 1 and 128")
		}
		if n := len([]rune(v)); n < 1 || n > 256 {
			return validationError(member, "Map values must have length between 1 and 256")
		}
	}
	return nil
}

// setPrincipalTagAttributeMap is SetPrincipalTagAttributeMap: UseDefaults
// sets Cognito's defaults (username from sub, client from aud); otherwise
// PrincipalTags become the pool's principal_tags, none clearing them. One
// configuration version, with history and audit.
func (api *API) setPrincipalTagAttributeMap(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.SetPrincipalTagAttributeMapInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityPoolId", in.IdentityPoolID, true); e != nil {
		return nil, e
	}
	if n := len([]rune(in.IdentityProviderName)); n < 1 || n > 128 {
		return nil, validationError("identityProviderName", "Member must have length between 1 and 128")
	}
	if e := checkPrincipalTags("principalTags", in.PrincipalTags); e != nil {
		return nil, e
	}
	useDefaults := in.UseDefaults != nil && *in.UseDefaults
	tags := in.PrincipalTags
	if useDefaults {
		if len(tags) > 0 && !maps.Equal(tags, defaultPrincipalTags) {
			return nil, apiError(ErrInvalidParameter, "Give either UseDefaults or PrincipalTags, not both.", nil)
		}
		tags = maps.Clone(defaultPrincipalTags)
	}
	if len(tags) == 0 {
		tags = nil
	}
	ctx := c.Request.Context()
	if e := inScope(ctx, in.IdentityPoolID, "SetPrincipalTagAttributeMap"); e != nil {
		return nil, e
	}
	pool, e := api.pool(in.IdentityPoolID)
	if e != nil {
		return nil, e
	}
	if e := poolProvider(pool, in.IdentityProviderName); e != nil {
		return nil, e
	}
	e = api.updatePool(c, in.IdentityPoolID, "SetPrincipalTagAttributeMap", func(p *config.Pool) *core.Error {
		p.PrincipalTags = tags
		return nil
	})
	if e != nil {
		return nil, e
	}
	out := wire.PrincipalTagAttributeMapOutput{IdentityPoolID: in.IdentityPoolID, IdentityProviderName: in.IdentityProviderName,
		UseDefaults: useDefaults, PrincipalTags: tags}
	if out.PrincipalTags == nil {
		out.PrincipalTags = map[string]string{}
	}
	return out, nil
}

// poolOfARN is the pool an identity pool ARN names, in the key's scope
// and known.
func (api *API) poolOfARN(c *gin.Context, arn, op string) *core.Error {
	m := poolARN.FindStringSubmatch(arn)
	if m == nil {
		return validationError("resourceArn", "Member must be an identity pool ARN (arn:aws:cognito-identity:REGION:ACCOUNT:identitypool/ID)")
	}
	if e := inScope(c.Request.Context(), m[1], op); e != nil {
		return e
	}
	_, e := api.pool(m[1])
	return e
}

// tagResource is TagResource: refused, fedgate pools take no tags.
func (api *API) tagResource(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.TagResourceInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := api.poolOfARN(c, in.ResourceARN, "TagResource"); e != nil {
		return nil, e
	}
	if e := checkPrincipalTags("tags", in.Tags); e != nil {
		return nil, e
	}
	return nil, apiError(ErrInvalidParameter, msgNoTags, nil)
}

// untagResource is UntagResource: a pool has no tags, so whatever keys
// are named are already absent, and the answer is the success AWS gives
// for keys a resource does not have.
func (api *API) untagResource(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.UntagResourceInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := api.poolOfARN(c, in.ResourceARN, "UntagResource"); e != nil {
		return nil, e
	}
	if len(in.TagKeys) > 50 {
		return nil, validationError("tagKeys", "Member must have length less than or equal to 50")
	}
	for _, k := range in.TagKeys {
		if n := len([]rune(k)); n < 1 || n > 128 {
			return nil, validationError("tagKeys", "Member must have length between 1 and 128")
		}
	}
	return struct{}{}, nil
}
