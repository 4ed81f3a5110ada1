package cognito

// The operations AWS signs: a request must carry a SigV4 signature by an
// access key fedgate issued, whose role allows the operation and whose
// pool (when it has one) is the pool the operation touches. Every signed
// request, accepted or refused, leaves one audit entry naming the key.

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// signedOp is an operation that needs a signature, with the admin role
// its key needs.
type signedOp struct {
	role    string
	handler func(*gin.Context, []byte) (any, *core.Error)
}

type signedKeyCtx struct{}

// keyOf is the access key that signed the request in ctx.
func keyOf(ctx context.Context) *signedKey {
	k, _ := ctx.Value(signedKeyCtx{}).(*signedKey)
	return k
}

// actor names a key in the audit log and in history.
func (k *signedKey) actor() string { return "access-key:" + k.ID }

// resolveKey adapts the core's access keys to the verifier.
func (api *API) resolveKey(ctx context.Context, id string) (signedKey, string, bool, error) {
	k, secret, err := api.core.AccessKeys().Resolve(ctx, id)
	if err != nil {
		return signedKey{}, "", false, err
	}
	return signedKey{ID: k.ID, Name: k.Name, Role: k.Role, PoolID: k.PoolID}, secret, k.Disabled, nil
}

// serveSigned verifies and authorizes a signed operation, runs it and
// audits the use.
func (api *API) serveSigned(c *gin.Context, name string, op signedOp, body []byte) (any, *core.Error) {
	ctx := c.Request.Context()
	key, e := api.sig.verify(c.Request, body, api.core.Now())
	if e == nil && config.AdminRoleRank(key.Role) < config.AdminRoleRank(op.role) {
		e = apiError(ErrAccessDenied, "User: "+key.ID+" is not authorized to perform: cognito-identity:"+name+
			" (the access key's role is "+key.Role+"; this needs "+op.role+").", nil)
	}
	var out any
	if e == nil {
		ctx = context.WithValue(ctx, signedKeyCtx{}, key)
		ctx, trail := core.WithAuditTrail(ctx, store.AuditAccessKey)
		c.Request = c.Request.WithContext(ctx)
		out, e = op.handler(c, body)
		if trail.Pool == "" && key.PoolID != "" {
			trail.Pool = key.PoolID
		}
		api.auditUse(ctx, name, key, trail.Pool, e)
		if e == nil {
			if err := api.core.AccessKeys().Touch(ctx, key.ID); err != nil {
				core.LogFrom(ctx, api.log).Warn("recording an access key's use failed", "access_key", key.ID, "error", err)
			}
		}
		return out, e
	}
	api.auditUse(ctx, name, key, "", e)
	return nil, e
}

// auditUse records one signed request: who signed (when known), the
// operation and the outcome.
func (api *API) auditUse(ctx context.Context, name string, key *signedKey, pool string, e *core.Error) {
	entry := store.AuditEntry{Kind: store.AuditAccessKey, Actor: "access-key:unknown", Pool: pool, Result: store.AuditOK, Reason: name}
	if key != nil {
		entry.Actor = key.actor()
		if entry.Pool == "" {
			entry.Pool = key.PoolID
		}
	}
	if e != nil {
		entry.Result, entry.Reason = core.ResultOf(e), name+": "+e.Code
		if e.Status >= http.StatusInternalServerError {
			entry.Result = store.AuditFailed
		}
	}
	api.core.Audit(ctx, entry)
}

// inScope refuses an operation on a pool the signing key is not for.
func inScope(ctx context.Context, poolID, name string) *core.Error {
	core.NoteAudit(ctx, core.AuditNote{Pool: poolID})
	k := keyOf(ctx)
	if k == nil || k.PoolID == "" || k.PoolID == poolID {
		return nil
	}
	return apiError(ErrAccessDenied, "User: "+k.ID+" is not authorized to perform: cognito-identity:"+name+
		" on resource: identity pool "+poolID+" (the access key is for pool "+k.PoolID+").", errors.New("pool outside the key's scope"))
}
