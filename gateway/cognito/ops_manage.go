package cognito

// Identity and identity pool reads and identity deletion (signed).

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/store"
	"fedgate/gateway/wire"
)

const (
	maxPage            = 60
	maxDeleteIdentites = 60
	maxNextToken       = 65535
)

// pageToken is the opaque NextToken: the last id of the page, encoded.
func pageToken(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + lastID))
}

func parsePageToken(tok string) (string, *core.Error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	after, ok := strings.CutPrefix(string(b), "v1:")
	if err != nil || len(tok) > maxNextToken || !ok {
		return "", apiError(ErrInvalidParameter, "The NextToken is not one this service returned.", err)
	}
	return after, nil
}

func checkMaxResults(n int) *core.Error {
	if n < 1 || n > maxPage {
		return validationError("maxResults", "Member must have value between 1 and 60")
	}
	return nil
}

// listIdentityPools is ListIdentityPools: the pools in id order, only the
// key's pool for a key scoped to one.
func (api *API) listIdentityPools(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.ListIdentityPoolsInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkMaxResults(in.MaxResults); e != nil {
		return nil, e
	}
	after, e := parsePageToken(in.NextToken)
	if e != nil {
		return nil, e
	}
	key := keyOf(c.Request.Context())
	var ids []string
	for id, p := range api.core.Snapshot().Pools {
		if p.Cfg.ID == id && id > after && (key == nil || key.PoolID == "" || key.PoolID == id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := wire.ListIdentityPoolsOutput{IdentityPools: []wire.IdentityPoolShortDescription{}}
	for i, id := range ids {
		if i == in.MaxResults {
			out.NextToken = pageToken(ids[i-1])
			break
		}
		out.IdentityPools = append(out.IdentityPools, wire.IdentityPoolShortDescription{IdentityPoolID: id, IdentityPoolName: cognitoPoolName(api.core.Snapshot().Pools[id])})
	}
	return out, nil
}

// cognitoPoolName is a pool's name as Cognito shows it: its display name
// (which CreateIdentityPool sets to the name it was given), else its name.
func cognitoPoolName(p *core.Pool) string {
	if p.Cfg.DisplayName != "" {
		return p.Cfg.DisplayName
	}
	return p.Cfg.Name
}

// describeIdentityPool is DescribeIdentityPool: the pool in Cognito's
// shape.
func (api *API) describeIdentityPool(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.DescribeIdentityPoolInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityPoolId", in.IdentityPoolID, true); e != nil {
		return nil, e
	}
	if e := inScope(c.Request.Context(), in.IdentityPoolID, "DescribeIdentityPool"); e != nil {
		return nil, e
	}
	pool, e := api.pool(in.IdentityPoolID)
	if e != nil {
		return nil, e
	}
	return describePool(pool), nil
}

// describePool maps a fedgate pool onto Cognito's IdentityPool: OIDC
// providers are SupportedLoginProviders (login key → fedgate provider id), the SAML
// provider ARN is SamlProviderARNs.
func describePool(pool *core.Pool) wire.IdentityPool {
	out := wire.IdentityPool{
		IdentityPoolID: pool.Cfg.ID, IdentityPoolName: cognitoPoolName(pool),
		AllowUnauthenticatedIdentities: pool.Cfg.AllowGuests, AllowClassicFlow: pool.Cfg.AllowClassicFlow,
		DeveloperProviderName: pool.Cfg.DeveloperProviderName,
	}
	for _, p := range pool.Providers {
		if key, isIssuer, ok := poolLoginKey(pool, p); ok && isIssuer {
			if out.SupportedLoginProviders == nil {
				out.SupportedLoginProviders = map[string]string{}
			}
			out.SupportedLoginProviders[key] = p.Cfg.ID
		}
	}
	if pool.Cfg.SAMLProviderARN != "" {
		out.SamlProviderARNs = []string{pool.Cfg.SAMLProviderARN}
	}
	return out
}

// identityRecord finds an identity the signing key may see.
func (api *API) identityRecord(ctx context.Context, id, op string) (*store.IdentityRecord, *core.Error) {
	rec, err := api.core.LookupIdentity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apiError(ErrResourceNotFound, "Identity '"+id+"' not found.", nil)
	}
	if err != nil {
		return nil, storeError(err)
	}
	core.NoteAudit(ctx, core.AuditNote{IdentityID: id})
	if e := inScope(ctx, rec.PoolID, op); e != nil {
		return nil, e
	}
	return rec, nil
}

// describeIdentity is DescribeIdentity.
func (api *API) describeIdentity(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.DescribeIdentityInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityId", in.IdentityID, true); e != nil {
		return nil, e
	}
	rec, e := api.identityRecord(c.Request.Context(), in.IdentityID, "DescribeIdentity")
	if e != nil {
		return nil, e
	}
	return api.describe(c.Request.Context(), rec)
}

// describe is an identity in Cognito's shape; its logins are the login
// keys of its providers in the pool (none for a guest).
func (api *API) describe(ctx context.Context, rec *store.IdentityRecord) (wire.IdentityDescription, *core.Error) {
	out := wire.IdentityDescription{
		IdentityID:       rec.ID,
		CreationDate:     epochSeconds(rec.CreatedAt.UnixMilli()),
		LastModifiedDate: epochSeconds(rec.LastSeenAt.UnixMilli()),
	}
	if rec.Provider == core.GuestProvider {
		return out, nil
	}
	logins, err := api.core.LoginsOf(ctx, rec.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return out, storeError(err)
	}
	pool := api.core.Snapshot().Pools[rec.PoolID]
	for _, k := range logins {
		key := k.Provider
		if k.Provider == core.DeveloperProvider && pool != nil && pool.Cfg.DeveloperProviderName != "" {
			key = pool.Cfg.DeveloperProviderName
		}
		if pool != nil {
			for _, p := range pool.Providers {
				if m, ok := loginMethodOf(api.core, pool, p); ok && p.Cfg.ID == k.Provider {
					key = m.key
				}
			}
		}
		if !slices.Contains(out.Logins, key) {
			out.Logins = append(out.Logins, key)
		}
	}
	return out, nil
}

func epochSeconds(ms int64) float64 { return float64(ms) / 1000 }

// listIdentities is ListIdentities. An identity whose logins were all
// unlinked is disabled (nobody can use it); HideDisabled leaves those out.
func (api *API) listIdentities(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.ListIdentitiesInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityPoolId", in.IdentityPoolID, true); e != nil {
		return nil, e
	}
	if e := checkMaxResults(in.MaxResults); e != nil {
		return nil, e
	}
	ctx := c.Request.Context()
	if e := inScope(ctx, in.IdentityPoolID, "ListIdentities"); e != nil {
		return nil, e
	}
	if _, e := api.pool(in.IdentityPoolID); e != nil {
		return nil, e
	}
	after, e := parsePageToken(in.NextToken)
	if e != nil {
		return nil, e
	}
	recs, err := api.core.ListIdentities(ctx, in.IdentityPoolID, after, in.MaxResults+1)
	if err != nil {
		return nil, storeError(err)
	}
	out := wire.ListIdentitiesOutput{IdentityPoolID: in.IdentityPoolID, Identities: []wire.IdentityDescription{}}
	if len(recs) > in.MaxResults {
		recs = recs[:in.MaxResults]
		out.NextToken = pageToken(recs[len(recs)-1].ID)
	}
	for i := range recs {
		if in.HideDisabled && recs[i].Provider == store.UnlinkedProvider {
			if logins, err := api.core.LoginsOf(ctx, recs[i].ID); err == nil && len(logins) == 0 {
				continue
			}
		}
		d, e := api.describe(ctx, &recs[i])
		if e != nil {
			return nil, e
		}
		out.Identities = append(out.Identities, d)
	}
	return out, nil
}

// deleteIdentities is DeleteIdentities: up to 60 ids; those not deleted
// come back in UnprocessedIdentityIds (AccessDenied outside the key's
// pool, InternalServerError on a store failure). An unknown id is already
// gone, as Cognito treats it.
func (api *API) deleteIdentities(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.DeleteIdentitiesInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if n := len(in.IdentityIDsToDelete); n < 1 || n > maxDeleteIdentites {
		return nil, validationError("identityIdsToDelete", "Member must have length between 1 and 60")
	}
	for _, id := range in.IdentityIDsToDelete {
		if e := checkID("identityIdsToDelete", id, true); e != nil {
			return nil, e
		}
	}
	ctx := c.Request.Context()
	key := keyOf(ctx)
	out := wire.DeleteIdentitiesOutput{UnprocessedIdentityIDs: []wire.UnprocessedIdentityID{}}
	for _, id := range in.IdentityIDsToDelete {
		rec, err := api.core.LookupIdentity(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			out.UnprocessedIdentityIDs = append(out.UnprocessedIdentityIDs, wire.UnprocessedIdentityID{IdentityID: id, ErrorCode: "InternalServerError"})
			continue
		case key != nil && key.PoolID != "" && key.PoolID != rec.PoolID:
			out.UnprocessedIdentityIDs = append(out.UnprocessedIdentityIDs, wire.UnprocessedIdentityID{IdentityID: id, ErrorCode: "AccessDenied"})
			continue
		}
		err = api.core.DeleteIdentity(ctx, rec, key.actor(), "DeleteIdentities")
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			core.LogFrom(ctx, api.log).Error("deleting an identity failed", "identity_id", id, "error", err)
			out.UnprocessedIdentityIDs = append(out.UnprocessedIdentityIDs, wire.UnprocessedIdentityID{IdentityID: id, ErrorCode: "InternalServerError"})
		}
	}
	return out, nil
}
