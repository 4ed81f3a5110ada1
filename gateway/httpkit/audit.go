package httpkit

// Every credential request that is refused leaves exactly one audit entry,
// also when it is refused before a verified identity exists: a bad,
// expired or forged token on the JSON API, a failed browser callback, a
// SAML response that does not verify, a Cognito login that does not
// verify. Paths that audit themselves (a vend, a refusal of a known
// principal, an admin sign-in) mark the request as recorded, so the
// middleware never writes a second entry for them.

import (
	"context"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// AnonRefusalsBurst and anonRefusalsPerSecond are the audit budget for refusals that name nobody: a burst of 60 per source
// address, then one a second.
const (
	anonRefusalsPerSecond = 1
	AnonRefusalsBurst     = 60
)

// AuditRefusals is route middleware for a credential (or admin sign-in)
// route: it gives the request an audit trail and, once the handler is
// done, records a refusal that no handler recorded.
func (s *Kit) AuditRefusals(kind string) gin.HandlerFunc {
	return s.AuditRefusalsIf(kind, nil)
}

// AuditRefusalsIf is AuditRefusals for the requests audited says are
// credential requests (nil: all of them).
func (s *Kit) AuditRefusalsIf(kind string, audited func(*gin.Context) bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if audited != nil && !audited(c) {
			c.Next()
			return
		}
		ctx, t := core.WithAuditTrail(c.Request.Context(), kind)
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		e := t.Refusal
		if t.Recorded || e == nil || e.Throttled {
			return
		}
		// A refusal that names nobody (a garbage token, a stale state) costs
		// the sender nothing; a budget per source address keeps such a
		// flood from growing the audit log without bound.
		if t.Subject == "" && t.IdentityID == "" && !s.anonRefusals.Allow(SourceKey(c.ClientIP())) {
			core.LogFrom(ctx, s.log).Debug("refusal not audited: its source is over the audit budget for anonymous refusals")
			return
		}
		// The client may be gone; the entry is still owed.
		s.audit(context.WithoutCancel(ctx), store.AuditEntry{
			Kind: t.Kind, Provider: t.Provider, Subject: t.Subject, Pool: t.Pool, IdentityID: t.IdentityID, Role: t.Role,
			Result: core.ResultOf(e), Reason: core.AuditReason(e),
		})
	}
}
