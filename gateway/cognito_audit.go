package gateway

import (
	"context"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// auditGuest records a Cognito guest vend (e nil) or its refusal. A guest
// has no provider or subject: the entry names the guest marker and the
// identity id.
func (api *cognitoAPI) auditGuest(ctx context.Context, r *resolvedIdentity, role string, e *core.Error) {
	entry := store.AuditEntry{Kind: store.AuditVend, IdentityID: r.id, Provider: guestProvider, Pool: r.pool.Cfg.ID, Role: role,
		Result: store.AuditOK, Reason: "unauthenticated role"}
	if e != nil {
		entry.Result, entry.Reason = core.ResultOf(e), core.AuditReason(e)
	}
	api.s.core.Audit(ctx, entry)
}

// auditOpenIDToken records GetOpenIdToken (the classic flow): the token it
// returns is exchanged for credentials by the app itself, so it is a vend
// in all but the STS call.
func (api *cognitoAPI) auditOpenIDToken(ctx context.Context, r *resolvedIdentity) {
	entry := store.AuditEntry{Kind: store.AuditVend, IdentityID: r.id, Provider: guestProvider, Pool: r.pool.Cfg.ID,
		Result: store.AuditOK, Reason: "open id token (classic flow)"}
	if r.login != nil {
		entry.Provider, entry.Subject = r.login.provider.Cfg.ID, r.login.ident.Subject
	}
	api.s.core.Audit(ctx, entry)
}
