package core

import (
	"context"
	"errors"
	"fedgate/exchange"
	"fedgate/exchange/rules"
	"fedgate/gateway/store"
	"fedgate/idp"
	"net/http"
	"strings"
)

// Vend exchanges a granted role for credentials and records the outcome
// in the audit log (never the credentials or the token).
func (s *Core) Vend(ctx context.Context, p *Principal, g rules.Grant, durationSeconds int) (*exchange.Credentials, string, *Error) {
	creds, id, e := s.vendUnaudited(ctx, p, g, durationSeconds)
	entry := vendEntry(p, g.Role)
	entry.IdentityID = id
	if e != nil {
		entry.Result, entry.Reason = ResultOf(e), e.Code
	} else {
		entry.Result, entry.Reason = store.AuditOK, "rule "+g.Rule
	}
	if err := s.record(ctx, entry); err != nil && e == nil {
		return nil, id, unaudited(err)
	}
	return creds, id, e
}

// AuditRefusal records a refusal decided before any vend (no rule
// matched, role not entitled).
func (s *Core) AuditRefusal(ctx context.Context, p *Principal, role string, e *Error) {
	entry := vendEntry(p, role)
	entry.IdentityID = p.KnownID // set when the caller resolved it (Cognito)
	entry.Result, entry.Reason = ResultOf(e), e.Code
	s.Audit(ctx, entry)
}

func vendEntry(p *Principal, role string) store.AuditEntry {
	return store.AuditEntry{Kind: store.AuditVend, Provider: p.Provider.Cfg.ID, Subject: p.Ident.Subject, Pool: p.Pool.Cfg.ID, Role: role}
}

// ResultOf is the audit result of a refusal: failed when it is the
// gateway's fault (5xx), refused otherwise.
func ResultOf(e *Error) string {
	if e.Status >= 500 {
		return store.AuditFailed
	}
	return store.AuditRefused
}

// auditMeta is what the audit log needs from the request that caused an
// entry; a middleware puts it in the request context.
type auditMeta struct{ source, requestID string }

type auditMetaKey struct{}

// Audit appends an entry, filling source and request id from ctx. A
// failure is logged, never shown: the change has happened.
func (s *Core) Audit(ctx context.Context, e store.AuditEntry) { _ = s.record(ctx, e) }

// record is Audit returning the failure: a successful vend whose entry
// cannot be written withholds the credentials (see Vend).
func (s *Core) record(ctx context.Context, e store.AuditEntry) error {
	if m, ok := ctx.Value(auditMetaKey{}).(auditMeta); ok {
		e.Source, e.RequestID = m.source, m.requestID
	}
	MarkAudited(ctx) // no second entry for this request
	// Not cancelled with the request: a client that hangs up after the vend
	// must not erase its record (TestAuditSurvivesClientDisconnect).
	if _, err := s.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		LogFrom(ctx, s.log).Error("writing the audit log failed", "kind", e.Kind, "result", e.Result, "error", err)
		return err
	}
	return nil
}

// unaudited is the refusal of a vend that succeeded at STS but whose audit
// entry could not be written: no credentials leave fedgate unrecorded.
func unaudited(err error) *Error {
	e := NewError(http.StatusServiceUnavailable, CodeStoreUnavailable,
		"The credentials could not be recorded in the audit log, so they were not handed out. Try again in a moment.", err)
	e.RetryAfter = storeRetryAfter
	return e
}

// WithAuditMeta fills an entry's source address and request id from ctx.
func WithAuditMeta(ctx context.Context, e store.AuditEntry) store.AuditEntry {
	if m, ok := ctx.Value(auditMetaKey{}).(auditMeta); ok {
		e.Source, e.RequestID = m.source, m.requestID
	}
	return e
}

// AuditTrail is what a request has learnt so far about the credential
// request it carries; a refusal entry names whatever is known.
type AuditTrail struct {
	Kind       string
	Pool       string
	Provider   string
	Subject    string // only a verified subject (a CLI session's owner)
	IdentityID string
	Role       string
	Refusal    *Error
	Recorded   bool
}

type auditTrailKey struct{}

// TrailOf is the audit trail of the request in ctx, or nil outside a
// credential route.
func TrailOf(ctx context.Context) *AuditTrail {
	t, _ := ctx.Value(auditTrailKey{}).(*AuditTrail)
	return t
}

// AuditNote fills what a refusal entry of this request should name; empty
// values leave what is known.
type AuditNote struct {
	Pool, Provider, Subject, IdentityID, Role string
	// Kind, when set, is the audit kind of the refusal (an admin sign-in).
	Kind string
}

// NoteAudit tells the request's audit trail what a refusal entry should
// name (empty values keep what is known).
func NoteAudit(ctx context.Context, n AuditNote) {
	t := TrailOf(ctx)
	if t == nil {
		return
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&t.Pool, n.Pool}, {&t.Provider, n.Provider}, {&t.Subject, n.Subject}, {&t.IdentityID, n.IdentityID}, {&t.Role, n.Role},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if n.Kind != "" {
		t.Kind = n.Kind
	}
}

// NoteRefusal keeps the refusal a request answers with (Kit.Fail calls it).
func NoteRefusal(ctx context.Context, e *Error) {
	if t := TrailOf(ctx); t != nil {
		t.Refusal = e
	}
}

// MarkAudited records that the request wrote its own audit entry.
func MarkAudited(ctx context.Context) {
	if t := TrailOf(ctx); t != nil {
		t.Recorded = true
	}
}

// AuditReason is the public code of a refusal. A Cognito error type is
// coarse (NotAuthorizedException), so the finer public code of its cause
// follows in parentheses when there is one.
func AuditReason(e *Error) string {
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
			return e.Code + " (" + FromSAML(e.Cause).Code + ")"
		}
	}
	return e.Code
}

// RequestID is the id of the request in ctx, "" outside one.
func RequestID(ctx context.Context) string {
	m, _ := ctx.Value(auditMetaKey{}).(auditMeta)
	return m.requestID
}

// WithAuditSource records, for the audit entries written under ctx, the
// source address and request id of the request that causes them.
func WithAuditSource(ctx context.Context, source, requestID string) context.Context {
	return context.WithValue(ctx, auditMetaKey{}, auditMeta{source: source, requestID: requestID})
}

// WithAuditTrail gives a credential request an audit trail, so that a
// refusal no handler recorded can be recorded once the request is done.
func WithAuditTrail(ctx context.Context, kind string) (context.Context, *AuditTrail) {
	t := &AuditTrail{Kind: kind}
	return context.WithValue(ctx, auditTrailKey{}, t), t
}

// Grant vends the role roleARN (or, when it is empty, the only role) that
// the rules give p. It is the one entry point of every surface: a refusal
// and a vend are both audited. durationSeconds 0 means the grant's or the
// pool's default.
func (s *Core) Grant(ctx context.Context, p *Principal, roleARN string, durationSeconds int) (*exchange.Credentials, string, *Error) {
	return s.grant(ctx, p, p.Entitlements(), roleARN, durationSeconds)
}

// GrantFirst is Grant, except that with no role named and several open it
// takes the first, in the pool's rule order (as Cognito does).
func (s *Core) GrantFirst(ctx context.Context, p *Principal, roleARN string, durationSeconds int) (*exchange.Credentials, string, *Error) {
	d := p.Entitlements()
	if roleARN == "" && len(d.Grants) > 1 {
		roleARN = d.Grants[0].Role
	}
	return s.grant(ctx, p, d, roleARN, durationSeconds)
}

func (s *Core) grant(ctx context.Context, p *Principal, d rules.Decision, roleARN string, durationSeconds int) (*exchange.Credentials, string, *Error) {
	g, e := PickGrant(p, d, roleARN)
	if e != nil {
		s.AuditRefusal(ctx, p, roleARN, e)
		return nil, "", e
	}
	return s.Vend(ctx, p, g, durationSeconds)
}
