package cognito

// Developer-authenticated identities (signed): a backend that signs in its
// users itself links them, by a developer user identifier under the pool's
// developer provider, to identities, and gets a fedgate token the app
// presents as the login cognito-identity.amazonaws.com.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
	"fedgate/gateway/wire"
	"fedgate/idp"
)

// DeveloperLoginKey is the Logins key of a developer identity's token.
const DeveloperLoginKey = "cognito-identity.amazonaws.com"

// ErrDeveloperUserAlreadyRegistered is the service model's refusal of a
// developer user identifier linked to another identity.
const ErrDeveloperUserAlreadyRegistered = "DeveloperUserAlreadyRegisteredException"

// Limits of the service model.
const (
	maxDeveloperUserID   = 1024
	maxDeveloperProvider = 128
	maxTokenDuration     = 86400
	maxPrincipalTags     = 50
	maxTagKey            = 128
	maxTagValue          = 256
	maxMergedLogins      = 20
)

// checkDeveloperUserID validates a developer user identifier member.
func checkDeveloperUserID(member, v string) *core.Error {
	if n := utf8.RuneCountInString(v); n < 1 || n > maxDeveloperUserID {
		return validationError(member, "Member must have length between 1 and 1024")
	}
	if idp.CheckSubject(v) != nil {
		return validationError(member, "Member must be valid UTF-8 without control characters")
	}
	return nil
}

// developerPool is the pool of a developer operation, in the key's scope,
// with a developer provider; name, when given, must be that provider.
func (api *API) developerPool(ctx context.Context, poolID, name, op string) (*core.Pool, *core.Error) {
	if e := checkID("identityPoolId", poolID, true); e != nil {
		return nil, e
	}
	if e := inScope(ctx, poolID, op); e != nil {
		return nil, e
	}
	pool, e := api.pool(poolID)
	if e != nil {
		return nil, e
	}
	dev := pool.Cfg.DeveloperProviderName
	if dev == "" {
		return nil, apiError(ErrInvalidParameter, "The identity pool has no developer provider: set DeveloperProviderName with UpdateIdentityPool (or developer_provider_name in fedgate) first.", nil)
	}
	if name != "" && name != dev {
		return nil, apiError(ErrInvalidParameter, "'"+core.Truncate(name, 128)+"' is not the developer provider of this identity pool.", nil)
	}
	return pool, nil
}

// poolIdentity is an identity of pool, ResourceNotFoundException otherwise.
func (api *API) poolIdentity(ctx context.Context, pool *core.Pool, id string) (*store.IdentityRecord, *core.Error) {
	rec, err := api.core.LookupIdentity(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.PoolID != pool.Cfg.ID) {
		return nil, apiError(ErrResourceNotFound, "Identity '"+id+"' not found.", err)
	}
	if err != nil {
		return nil, storeError(err)
	}
	core.NoteAudit(ctx, core.AuditNote{IdentityID: id})
	return rec, nil
}

// maxPrincipalTagsJSON bounds the PrincipalTags as JSON (escaped), so the
// token that carries them stays within a login's 50,000 characters.
const maxPrincipalTagsJSON = 16 << 10

const msgTokenTooLong = "The PrincipalTags make a token longer than the 50000 characters a login may hold: send fewer or shorter tags."

// parseDeveloperToken decodes and validates a GetOpenIdTokenForDeveloperIdentity body.
func parseDeveloperToken(body []byte) (wire.GetOpenIDTokenForDeveloperIdentityInput, time.Duration, *core.Error) {
	var in wire.GetOpenIDTokenForDeveloperIdentityInput
	if e := decode(body, &in); e != nil {
		return in, 0, e
	}
	if e := checkID("identityId", in.IdentityID, false); e != nil {
		return in, 0, e
	}
	if len(in.Logins) == 0 {
		return in, 0, validationError("logins", "Member must not be null")
	}
	if e := checkLogins(in.Logins); e != nil {
		return in, 0, e
	}
	if len(in.PrincipalTags) > maxPrincipalTags {
		return in, 0, validationError("principalTags", "Member must have length less than or equal to 50")
	}
	for k, v := range in.PrincipalTags {
		if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKey {
			return in, 0, validationError("principalTags", "Map keys must have length between 1 and 128")
		}
		if n := utf8.RuneCountInString(v); n < 1 || n > maxTagValue {
			return in, 0, validationError("principalTags", "Map values must have length between 1 and 256")
		}
		if core.IsReservedDeveloperClaim(k) {
			return in, 0, apiError(ErrInvalidParameter, "PrincipalTags may not be named '"+k+"': it is a claim of the developer login itself.", nil)
		}
	}
	if tags, _ := json.Marshal(in.PrincipalTags); len(tags) > maxPrincipalTagsJSON {
		return in, 0, apiError(ErrInvalidParameter, msgTokenTooLong, nil)
	}
	var ttl time.Duration
	if in.TokenDuration != nil {
		d := *in.TokenDuration
		if d < 1 || d > maxTokenDuration {
			return in, 0, validationError("tokenDuration", "Member must have value between 1 and 86400")
		}
		if time.Duration(d)*time.Second > core.DeveloperTokenTTL {
			return in, 0, apiError(ErrInvalidParameter, "fedgate's tokens last at most "+strconv.Itoa(int(core.DeveloperTokenTTL/time.Second))+
				" seconds: ask for a TokenDuration of at most that, and a new token when it runs out.", nil)
		}
		ttl = time.Duration(d) * time.Second
	}
	return in, ttl, nil
}

// getOpenIDTokenForDeveloperIdentity is GetOpenIdTokenForDeveloperIdentity:
// the identity of the developer user (created on first use, or the given
// IdentityId, to which the user is then linked), with the other logins
// verified and linked as GetId links them, and a token for it.
func (api *API) getOpenIDTokenForDeveloperIdentity(c *gin.Context, body []byte) (any, *core.Error) {
	in, ttl, e := parseDeveloperToken(body)
	if e != nil {
		return nil, e
	}
	ctx := c.Request.Context()
	pool, e := api.developerPool(ctx, in.IdentityPoolID, "", "GetOpenIdTokenForDeveloperIdentity")
	if e != nil {
		return nil, e
	}
	name := pool.Cfg.DeveloperProviderName
	userID, ok := in.Logins[name]
	if !ok {
		return nil, apiError(ErrInvalidParameter, "Logins must hold the developer provider of this identity pool, '"+name+"', with the developer user identifier.", nil)
	}
	if e := checkDeveloperUserID("logins", userID); e != nil {
		return nil, e
	}
	others := make(map[string]string, len(in.Logins))
	for k, v := range in.Logins {
		if k == DeveloperLoginKey {
			return nil, apiError(ErrInvalidParameter, "A developer identity's token is not a login of GetOpenIdTokenForDeveloperIdentity.", nil)
		}
		if k != name {
			others[k] = v
		}
	}
	verified, e := api.verifyLogins(ctx, pool, others)
	if e != nil {
		return nil, e
	}
	if e := api.assertionsFree(ctx, pool, verified); e != nil {
		return nil, e
	}
	dev := core.DeveloperPrincipal(pool, userID, in.PrincipalTags)
	core.NoteAudit(ctx, core.AuditNote{Provider: core.DeveloperProvider})
	actor := keyOf(ctx).actor()
	target := in.IdentityID
	if target != "" {
		if _, e := api.poolIdentity(ctx, pool, target); e != nil {
			return nil, e
		}
	} else {
		owner, err := api.core.IdentityOfLogin(ctx, dev)
		if err != nil {
			return nil, storeError(err)
		}
		target = owner
		for _, p := range principals(pool, verified) {
			if target != "" {
				break
			}
			if target, err = api.core.IdentityOfLogin(ctx, p); err != nil {
				return nil, storeError(err)
			}
		}
		if target == "" {
			if target, err = api.core.NewDeveloperIdentity(ctx, dev, actor); err != nil {
				return nil, storeError(err)
			}
		}
	}
	if e := api.bindAssertions(ctx, pool, target, verified); e != nil {
		return nil, e
	}
	if err := api.core.LinkDeveloper(ctx, target, dev, actor); err != nil {
		if errors.Is(err, core.ErrDeveloperUserRegistered) {
			return nil, apiError(ErrDeveloperUserAlreadyRegistered, "The developer user identifier is already registered with another identity of this pool.", err)
		}
		return nil, linkError(err)
	}
	if len(verified) > 0 {
		if _, err := api.core.LinkLogins(ctx, target, principals(pool, verified), actor); err != nil {
			return nil, linkError(err)
		}
	}
	core.NoteAudit(ctx, core.AuditNote{IdentityID: target})
	token, e := api.core.DeveloperToken(ctx, dev, target, in.PrincipalTags, ttl, actor)
	switch {
	case e == nil:
	case e.Code == "tag_limit":
		return nil, apiError(ErrInvalidParameter, "The login's claims cannot be turned into AWS session tags: "+core.PublicTagReason(e.Cause)+".", e.Cause)
	default:
		return nil, apiError(ErrInternalError, "An internal error occurred.", e.Cause)
	}
	if len(token) > maxLoginTokenLen {
		// The identity and its link stand; only this token could never
		// come back as a login.
		return nil, apiError(ErrInvalidParameter, msgTokenTooLong, nil)
	}
	return wire.GetOpenIDTokenForDeveloperIdentityOutput{IdentityID: target, Token: token}, nil
}

// developerLogin verifies a developer identity's token presented as the
// login cognito-identity.amazonaws.com.
func (api *API) developerLogin(ctx context.Context, pool *core.Pool, raw string) (verifiedLogin, *core.Error) {
	p, err := api.core.VerifyDeveloperToken(ctx, pool, raw)
	switch {
	case err == nil:
		core.NoteAudit(ctx, core.AuditNote{Provider: core.DeveloperProvider})
		return verifiedLogin{provider: p.Provider, ident: p.Ident}, nil
	case core.IsExpiredDeveloperToken(err):
		return verifiedLogin{}, apiError(ErrNotAuthorized, "Invalid login token. Token expired.", err)
	case core.IsDeveloperTokenError(err):
		return verifiedLogin{}, apiError(ErrNotAuthorized, "Invalid login token. Not a developer identity token of this identity pool.", err)
	default:
		return verifiedLogin{}, storeError(err)
	}
}

// developerUsers are the developer user identifiers of an identity, sorted.
func (api *API) developerUsers(ctx context.Context, id string) ([]string, *core.Error) {
	logins, err := api.core.LoginsOf(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, storeError(err)
	}
	var out []string
	for _, k := range logins {
		if k.Provider == core.DeveloperProvider {
			out = append(out, k.Subject)
		}
	}
	slices.Sort(out)
	return out, nil
}

// developerPageToken is LookupDeveloperIdentity's NextToken: the identity
// and the last user identifier of the page. It is checked on the way
// back: it must name the identity the request resolves to.
func developerPageToken(id, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("d1:" + id + "\n" + last))
}

func parseDeveloperPageToken(tok, id string) (string, *core.Error) {
	if tok == "" {
		return "", nil
	}
	bad := apiError(ErrInvalidParameter, "The NextToken is not one this service returned for this identity.", nil)
	if len(tok) > maxNextToken {
		return "", bad
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", bad
	}
	rest, ok := strings.CutPrefix(string(b), "d1:")
	tokID, last, ok2 := strings.Cut(rest, "\n")
	if !ok || !ok2 || tokID != id || last == "" {
		return "", bad
	}
	return last, nil
}

// lookupDeveloperIdentity is LookupDeveloperIdentity: the identity of a
// developer user identifier, or the developer user identifiers of an
// identity (both when both are given and they match), paged.
func (api *API) lookupDeveloperIdentity(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.LookupDeveloperIdentityInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityId", in.IdentityID, false); e != nil {
		return nil, e
	}
	limit := maxPage
	if in.MaxResults != nil {
		if e := checkMaxResults(*in.MaxResults); e != nil {
			return nil, e
		}
		limit = *in.MaxResults
	}
	if in.IdentityID == "" && in.DeveloperUserIdentifier == "" {
		return nil, apiError(ErrInvalidParameter, "Give IdentityId or DeveloperUserIdentifier.", nil)
	}
	ctx := c.Request.Context()
	pool, e := api.developerPool(ctx, in.IdentityPoolID, "", "LookupDeveloperIdentity")
	if e != nil {
		return nil, e
	}
	id := in.IdentityID
	if in.DeveloperUserIdentifier != "" {
		if e := checkDeveloperUserID("developerUserIdentifier", in.DeveloperUserIdentifier); e != nil {
			return nil, e
		}
		owner, err := api.core.IdentityOfLogin(ctx, core.DeveloperPrincipal(pool, in.DeveloperUserIdentifier, nil))
		if err != nil {
			return nil, storeError(err)
		}
		if owner == "" {
			return nil, apiError(ErrResourceNotFound, "No identity of this pool has that developer user identifier.", nil)
		}
		if id != "" && id != owner {
			return nil, apiError(ErrResourceConflict, "The developer user identifier does not belong to identity '"+id+"'.", nil)
		}
		id = owner
	}
	if _, e := api.poolIdentity(ctx, pool, id); e != nil {
		return nil, e
	}
	after, e := parseDeveloperPageToken(in.NextToken, id)
	if e != nil {
		return nil, e
	}
	users, e := api.developerUsers(ctx, id)
	if e != nil {
		return nil, e
	}
	if after != "" {
		i, _ := slices.BinarySearch(users, after)
		for i < len(users) && users[i] <= after {
			i++
		}
		users = users[i:]
	}
	out := wire.LookupDeveloperIdentityOutput{IdentityID: id, DeveloperUserIdentifierList: users}
	if len(users) > limit {
		out.DeveloperUserIdentifierList = users[:limit]
		out.NextToken = developerPageToken(id, users[limit-1])
	}
	if out.DeveloperUserIdentifierList == nil {
		out.DeveloperUserIdentifierList = []string{}
	}
	return out, nil
}

// developerOwner is the identity of a developer user, ResourceNotFound
// when it has none.
func (api *API) developerOwner(ctx context.Context, pool *core.Pool, userID, member string) (string, *core.Error) {
	if e := checkDeveloperUserID(member, userID); e != nil {
		return "", e
	}
	owner, err := api.core.IdentityOfLogin(ctx, core.DeveloperPrincipal(pool, userID, nil))
	if err != nil {
		return "", storeError(err)
	}
	if owner == "" {
		return "", apiError(ErrResourceNotFound, "No identity of this pool has the developer user identifier given in "+member+".", nil)
	}
	return owner, nil
}

// mergeDeveloperIdentities is MergeDeveloperIdentities: the identity of
// the source user merges into the identity of the destination user (its
// logins move over; it is deleted). Two identities holding different
// users of one provider cannot merge; together they hold at most 20
// logins.
func (api *API) mergeDeveloperIdentities(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.MergeDeveloperIdentitiesInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkDeveloperProviderName("developerProviderName", in.DeveloperProviderName, maxDeveloperProvider); e != nil {
		return nil, e
	}
	ctx := c.Request.Context()
	pool, e := api.developerPool(ctx, in.IdentityPoolID, in.DeveloperProviderName, "MergeDeveloperIdentities")
	if e != nil {
		return nil, e
	}
	src, e := api.developerOwner(ctx, pool, in.SourceUserIdentifier, "sourceUserIdentifier")
	if e != nil {
		return nil, e
	}
	dst, e := api.developerOwner(ctx, pool, in.DestinationUserIdentifier, "destinationUserIdentifier")
	if e != nil {
		return nil, e
	}
	core.NoteAudit(ctx, core.AuditNote{IdentityID: dst})
	if src == dst {
		return wire.MergeDeveloperIdentitiesOutput{IdentityID: dst}, nil
	}
	srcLogins, err := api.core.LoginsOf(ctx, src)
	if err != nil {
		return nil, linkError(err)
	}
	dstLogins, err := api.core.LoginsOf(ctx, dst)
	if err != nil {
		return nil, linkError(err)
	}
	if len(srcLogins)+len(dstLogins) > maxMergedLogins {
		return nil, apiError(ErrInvalidParameter, "The two identities hold more than 20 logins together.", nil)
	}
	for _, s := range srcLogins {
		for _, d := range dstLogins {
			if s.Provider == d.Provider && s.Provider != core.DeveloperProvider && s.Subject != d.Subject {
				return nil, apiError(ErrResourceConflict, "The two identities hold different users of one provider; they cannot be merged.", nil)
			}
		}
	}
	if err := api.core.MergeIdentity(ctx, src, dst, pool.Cfg.ID, keyOf(ctx).actor()); err != nil {
		return nil, linkError(err)
	}
	return wire.MergeDeveloperIdentitiesOutput{IdentityID: dst}, nil
}

// unlinkDeveloperIdentity is UnlinkDeveloperIdentity: the developer user
// leaves the identity and gets a new one the next time it is seen; an
// identity left without logins is disabled.
func (api *API) unlinkDeveloperIdentity(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.UnlinkDeveloperIdentityInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityId", in.IdentityID, true); e != nil {
		return nil, e
	}
	if e := checkDeveloperProviderName("developerProviderName", in.DeveloperProviderName, maxDeveloperProvider); e != nil {
		return nil, e
	}
	ctx := c.Request.Context()
	pool, e := api.developerPool(ctx, in.IdentityPoolID, in.DeveloperProviderName, "UnlinkDeveloperIdentity")
	if e != nil {
		return nil, e
	}
	if _, e := api.poolIdentity(ctx, pool, in.IdentityID); e != nil {
		return nil, e
	}
	owner, e := api.developerOwner(ctx, pool, in.DeveloperUserIdentifier, "developerUserIdentifier")
	if e != nil {
		return nil, e
	}
	if owner != in.IdentityID {
		return nil, apiError(ErrResourceConflict, "The developer user identifier does not belong to identity '"+in.IdentityID+"'.", nil)
	}
	if err := api.core.UnlinkLogin(ctx, in.IdentityID, core.DeveloperKey(pool, in.DeveloperUserIdentifier), keyOf(ctx).actor()); err != nil {
		return nil, linkError(err)
	}
	return struct{}{}, nil
}

// checkDeveloperProviderName validates a DeveloperProviderName member.
func checkDeveloperProviderName(member, v string, max int) *core.Error {
	if n := len(v); n < 1 || n > max {
		return validationError(member, "Member must have length between 1 and "+strconv.Itoa(max))
	}
	if !config.DeveloperProviderPattern.MatchString(v) {
		return validationError(member, `Member must satisfy regular expression pattern: [\w._-]+`)
	}
	return nil
}
