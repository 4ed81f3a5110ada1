package gateway

// Audit completeness (issue 6): every credential request that is refused
// leaves exactly one audit entry, also when it is refused before a
// verified identity exists — a bad, expired or forged token on the JSON
// API, a failed browser callback, a SAML response that does not verify, a
// Cognito login that does not verify. Paths that audit themselves (vend,
// auditRefusal, admin sign-ins) mark the request as recorded, so the
// middleware below never writes a second entry for them.

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
)

// The audit budget for refusals that name nobody: a burst of 60 per source
// address, then one a second.
const (
	anonRefusalsPerSecond = 1
	anonRefusalsBurst     = 60
)

// auditedRoutes are the routes whose refusals are credential (or admin
// sign-in) refusals, by method and route template.
var auditedRoutes = map[string]string{
	"POST /api/v1/credentials":     store.AuditVend,
	"GET /callback":                store.AuditVend, // admin flows note adminSignIn
	"POST /login/:pool/:provider":  store.AuditVend,
	"POST /roles":                  store.AuditVend,
	"POST /saml/acs/:provider":     store.AuditVend,
	"POST /cli/credentials":        store.AuditVend,
	"POST /admin/login/:provider":  store.AuditAdminSignIn,
	"POST " + cognitoRouteSentinel: store.AuditVend, // see auditedRoute
}

// cognitoRouteSentinel stands for the Cognito API's routes (/ and
// cognito.path), which are audited only for its three operations.
const cognitoRouteSentinel = "cognito"

var cognitoOps = map[string]bool{"GetId": true, "GetCredentialsForIdentity": true, "GetOpenIdToken": true}

func (s *Server) auditedRoute(c *gin.Context) (string, bool) {
	route := c.FullPath()
	if c.Request.Method == http.MethodPost && (route == "/" || (route != "" && route == s.cfg.Cognito.Path)) {
		op, ok := strings.CutPrefix(c.GetHeader("X-Amz-Target"), cognitoTargetPrefix)
		if !ok || !cognitoOps[op] {
			return "", false
		}
		route = cognitoRouteSentinel
	}
	kind, ok := auditedRoutes[c.Request.Method+" "+route]
	return kind, ok
}

// auditRefusals is middleware: it gives the request an audit trail and,
// once the handler is done, records a refusal no handler recorded.
// Rate-limit refusals are not recorded: writing one per request would
// let a flood through to the store that the limiter keeps out.
func (s *Server) auditRefusals(c *gin.Context) {
	kind, ok := s.auditedRoute(c)
	if !ok {
		c.Next()
		return
	}
	ctx, t := core.WithAuditTrail(c.Request.Context(), kind)
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	e := t.Refusal
	if t.Recorded || e == nil || e.Status == http.StatusTooManyRequests || e.Code == cogTooManyRequests {
		return
	}
	// A refusal that names nobody (a garbage token, a stale state) costs the
	// sender nothing; a budget per source address keeps such a flood from
	// growing the audit log without bound.
	if t.Subject == "" && t.IdentityID == "" && !s.anonRefusals.Allow(httpkit.SourceKey(c.ClientIP())) {
		core.LogFrom(ctx, s.log).Debug("refusal not audited: its source is over the audit budget for anonymous refusals")
		return
	}
	// The client may be gone; the entry is still owed.
	s.core.Audit(context.WithoutCancel(ctx), store.AuditEntry{
		Kind: t.Kind, Provider: t.Provider, Subject: t.Subject, Pool: t.Pool, IdentityID: t.IdentityID, Role: t.Role,
		Result: core.ResultOf(e), Reason: core.AuditReason(e),
	})
}

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
