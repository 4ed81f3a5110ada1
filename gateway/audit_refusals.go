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
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/store"
	"fedgate/idp"
)

// auditTrail is what a request has learnt so far about the credential
// request it carries; a refusal entry names whatever is known.
type auditTrail struct {
	kind       string
	pool       string
	provider   string
	subject    string // only a verified subject (a CLI session's owner)
	identityID string
	role       string
	refusal    *Error
	recorded   bool
}

type auditTrailKey struct{}

// The audit budget for refusals that name nobody: a burst of 60 per source
// address, then one a second.
const (
	anonRefusalsPerSecond = 1
	anonRefusalsBurst     = 60
)

func trailOf(ctx context.Context) *auditTrail {
	t, _ := ctx.Value(auditTrailKey{}).(*auditTrail)
	return t
}

// auditNote fills what a refusal entry of this request should name; empty
// values leave what is known.
type auditNote struct {
	pool, provider, subject, identityID, role string
	adminSignIn                               bool
}

func noteAudit(ctx context.Context, n auditNote) {
	t := trailOf(ctx)
	if t == nil {
		return
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&t.pool, n.pool}, {&t.provider, n.provider}, {&t.subject, n.subject}, {&t.identityID, n.identityID}, {&t.role, n.role},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if n.adminSignIn {
		t.kind = store.AuditAdminSignIn
	}
}

// noteRefusal keeps the refusal a request answers with (fail calls it).
func noteRefusal(ctx context.Context, e *Error) {
	if t := trailOf(ctx); t != nil {
		t.refusal = e
	}
}

// markAudited records that the request wrote its own audit entry.
func markAudited(ctx context.Context) {
	if t := trailOf(ctx); t != nil {
		t.recorded = true
	}
}

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
	t := &auditTrail{kind: kind}
	ctx := context.WithValue(c.Request.Context(), auditTrailKey{}, t)
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	e := t.refusal
	if t.recorded || e == nil || e.Status == http.StatusTooManyRequests || e.Code == cogTooManyRequests {
		return
	}
	// A refusal that names nobody (a garbage token, a stale state) costs the
	// sender nothing; a budget per source address keeps such a flood from
	// growing the audit log without bound.
	if t.subject == "" && t.identityID == "" && !s.anonRefusals.allow(sourceKey(c.ClientIP())) {
		logFrom(ctx, s.log).Debug("refusal not audited: its source is over the audit budget for anonymous refusals")
		return
	}
	// The client may be gone; the entry is still owed.
	s.audit(context.WithoutCancel(ctx), store.AuditEntry{
		Kind: t.kind, Provider: t.provider, Subject: t.subject, Pool: t.pool, IdentityID: t.identityID, Role: t.role,
		Result: resultOf(e), Reason: auditReason(e),
	})
}

// auditReason is the public code of a refusal. A Cognito error type is
// coarse (NotAuthorizedException), so the finer public code of its cause
// follows in parentheses when there is one.
func auditReason(e *Error) string {
	if !strings.HasSuffix(e.Code, "Exception") || e.Cause == nil {
		return e.Code
	}
	var inner *Error
	if errors.As(e.Cause, &inner) && inner.Code != e.Code {
		return e.Code + " (" + inner.Code + ")"
	}
	for _, sentinel := range []error{idp.ErrExpiredToken, idp.ErrWrongAudience, idp.ErrWrongIssuer, idp.ErrInvalidToken,
		idp.ErrUpstream, idp.ErrReplay, idp.ErrWrongRecipient, idp.ErrUnsolicited, idp.ErrTooLarge, idp.ErrMissingSubject, idp.ErrNonceMismatch} {
		if errors.Is(e.Cause, sentinel) {
			return e.Code + " (" + fromSAML(e.Cause).Code + ")"
		}
	}
	return e.Code
}

// auditGuest records a Cognito guest vend (e nil) or its refusal. A guest
// has no provider or subject: the entry names the guest marker and the
// identity id.
func (api *cognitoAPI) auditGuest(ctx context.Context, r *resolvedIdentity, role string, e *Error) {
	entry := store.AuditEntry{Kind: store.AuditVend, IdentityID: r.id, Provider: guestProvider, Pool: r.pool.cfg.ID, Role: role,
		Result: store.AuditOK, Reason: "unauthenticated role"}
	if e != nil {
		entry.Result, entry.Reason = resultOf(e), auditReason(e)
	}
	api.s.audit(ctx, entry)
}

// auditOpenIDToken records GetOpenIdToken (the classic flow): the token it
// returns is exchanged for credentials by the app itself, so it is a vend
// in all but the STS call.
func (api *cognitoAPI) auditOpenIDToken(ctx context.Context, r *resolvedIdentity) {
	entry := store.AuditEntry{Kind: store.AuditVend, IdentityID: r.id, Provider: guestProvider, Pool: r.pool.cfg.ID,
		Result: store.AuditOK, Reason: "open id token (classic flow)"}
	if r.login != nil {
		entry.Provider, entry.Subject = r.login.provider.cfg.ID, r.login.ident.Subject
	}
	api.s.audit(ctx, entry)
}
