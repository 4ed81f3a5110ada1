package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"fedgate/exchange"
	"fedgate/exchange/rules"
	"fedgate/gateway/store"
	"fedgate/idp"
)

// Principal is a verified sign-in to one pool.
type Principal struct {
	Pool     *Pool
	Provider *Provider
	Ident    *idp.Identity
	// knownID is the identity id when the caller already resolved it (the
	// Cognito API checks it against the presented logins first).
	KnownID string
}

// Entitlements are the roles the rules give a principal, in order.
func (p *Principal) Entitlements() rules.Decision {
	return NarrowSAMLForward(p, p.Pool.Mapping.Evaluate(p.Ident.Claims)) // saml-forward: only the roles the response offers
}

// NoRoleError is the refusal of a person no rule of the pool gives a role.
func NoRoleError(p *Principal) *Error {
	return Errorf(http.StatusForbidden, CodeNoMatchingRule,
		"You signed in successfully, but no rule of the pool %q gives you an AWS role. If you need access, ask an admin to add a rule for you.",
		p.Pool.Cfg.DisplayName)
}

// PickGrant chooses the grant for a requested role ARN, or the only one.
func PickGrant(p *Principal, d rules.Decision, roleARN string) (rules.Grant, *Error) {
	if len(d.Grants) == 0 {
		return rules.Grant{}, NoRoleError(p)
	}
	if roleARN == "" {
		if len(d.Grants) == 1 {
			return d.Grants[0], nil
		}
		e := Errorf(http.StatusBadRequest, CodeRoleRequired, "Several roles are open to you in this pool; name one with role_arn.")
		for _, g := range d.Grants {
			e.Roles = append(e.Roles, g.Role)
		}
		return rules.Grant{}, e
	}
	for _, g := range d.Grants {
		if g.Role == roleARN {
			return g, nil
		}
	}
	return rules.Grant{}, Errorf(http.StatusForbidden, CodeRoleNotEntitled, "The rules of this pool do not give you that role.")
}

// IdentityID returns the stable REGION:UUID of a principal, creating it on
// first use. It is called only once a role is granted, so refusals store
// nothing.
func (s *Core) IdentityID(ctx context.Context, p *Principal) (string, error) {
	if p.KnownID != "" {
		return p.KnownID, nil
	}
	// Every provider type checks its subjects; this keeps a new one that
	// forgets from storing what the store cannot keep.
	if err := idp.CheckSubject(p.Ident.Subject); err != nil {
		return "", err
	}
	k := store.IdentityKey{PoolID: p.Pool.Cfg.ID, Provider: p.Provider.Cfg.ID, Subject: p.Ident.Subject}
	now := s.now()
	if id, ok := s.identities.id(k, now); ok {
		return id, nil
	}
	gen := s.identities.generation()
	u, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return "", fmt.Errorf("generating identity id: %w", err)
	}
	id, created, err := s.store.GetOrCreateIdentity(ctx, k, p.Pool.Cfg.Region()+":"+u.String())
	if err != nil {
		return "", fmt.Errorf("identity: %w", err)
	}
	s.identities.putID(gen, k, id, now)
	if created {
		LogFrom(ctx, s.log).Info("identity created", "identity_id", id, "pool", p.Pool.Cfg.ID, "provider", p.Provider.Cfg.ID)
	}
	return id, nil
}

// vendUnaudited exchanges a granted role for credentials through the pool's
// mode. durationSeconds 0 means the grant's or the pool's default. Vend
// wraps it with the audit log entry.
func (s *Core) vendUnaudited(ctx context.Context, p *Principal, g rules.Grant, durationSeconds int) (*exchange.Credentials, string, *Error) {
	maxDur := time.Duration(p.Pool.Cfg.DurationSeconds) * time.Second
	if g.Duration > 0 {
		maxDur = g.Duration
	}
	dur := maxDur
	if durationSeconds != 0 {
		// Compare in seconds: multiplying first could overflow and wrap
		// a huge request into range.
		if durationSeconds < 900 || int64(durationSeconds) > int64(maxDur/time.Second) {
			return nil, "", Errorf(http.StatusBadRequest, CodeInvalidRequest, "duration_seconds must be between 900 and %d for this role.", int(maxDur.Seconds()))
		}
		dur = time.Duration(durationSeconds) * time.Second
	}
	tags, transitive, err := p.Pool.Mapping.PrincipalTags(p.Ident.Claims, g)
	if err != nil {
		return nil, "", FromTags(err)
	}
	id, err := s.IdentityID(ctx, p)
	if errors.Is(err, idp.ErrInvalidToken) {
		return nil, "", FromIdP(err)
	}
	if err != nil {
		return nil, "", Internal(err)
	}
	req := exchange.Request{
		PoolID:            p.Pool.Cfg.ID,
		Audience:          p.Pool.Cfg.Audience(),
		IssuerURL:         p.Pool.IssuerURL,
		IdentityID:        id,
		Provider:          p.Provider.Cfg.ID,
		AMR:               []string{"authenticated", p.Provider.Cfg.ID},
		RoleARN:           g.Role,
		SessionName:       rules.SessionName(sessionNameSource(p)),
		Duration:          dur,
		SessionPolicy:     g.SessionPolicy,
		Tags:              tags,
		TransitiveTagKeys: transitive,
		UpstreamToken:     p.Ident.RawToken,
		SAMLProviderARN:   p.Pool.Cfg.SAMLProviderARN,
	}
	creds, e := s.callMode(ctx, p.Pool, req)
	log := LogFrom(ctx, s.log)
	if e != nil {
		// Info: Kit.Fail logs the refusal itself once, at its status's level.
		log.Info("vend refused", "identity_id", id, "pool", req.PoolID, "provider", req.Provider, "role", req.RoleARN, "code", e.Code, "cause", e.Cause.Error())
		return nil, id, e
	}
	// LogAttrs: every vend passes here, and attributes cost nothing when
	// INFO is off.
	log.LogAttrs(ctx, slog.LevelInfo, "credentials vended", slog.String("identity_id", id), slog.String("pool", req.PoolID),
		slog.String("provider", req.Provider), slog.String("subject", p.Ident.Subject), slog.String("role", req.RoleARN),
		slog.String("rule", g.Rule), slog.String("expires", creds.Expiration.UTC().Format(time.RFC3339)))
	return creds, id, nil
}

// callMode has the pool's mode vend req, counts the attempt, and maps a
// failure to a public error whose Cause is the mode's error: a caller that
// hung up mid-exchange is a 499, not an STS failure; an STS refusal keeps
// its code; anything else is AsVendError's.
func (s *Core) callMode(ctx context.Context, pool *Pool, req exchange.Request) (*exchange.Credentials, *Error) {
	creds, err := pool.Mode.Vend(ctx, req)
	s.onVend(ctx, err == nil)
	if err == nil {
		return creds, nil
	}
	var se *exchange.STSError
	switch {
	case ctx.Err() != nil:
		// The caller hung up mid-exchange: not an STS failure.
		return nil, NewError(StatusClientClosed, CodeClientClosed, "The request was cancelled.", err)
	case errors.As(err, &se):
		return nil, FromSTS(err)
	default:
		return nil, AsVendError(err)
	}
}

// AsVendError maps a mode's own refusal (not STS's) to a public error.
func AsVendError(err error) *Error {
	if errors.Is(err, exchange.ErrInvalidRequest) {
		return NewError(http.StatusBadRequest, CodeInvalidRequest, "This sign-in cannot be exchanged in this pool's mode; ask an admin to check the pool.", err)
	}
	return Internal(err)
}

// sessionNameSource is the claim RoleSessionName comes from, so CloudTrail
// shows a person, not a random id.
func sessionNameSource(p *Principal) string {
	claims := p.Ident.Claims
	if c := p.Pool.Cfg.SessionNameClaim; c != "" {
		if v, ok := claims[c].(string); ok && v != "" {
			return v
		}
	}
	for _, c := range []string{"email", "preferred_username"} {
		if v, ok := claims[c].(string); ok && v != "" {
			return v
		}
	}
	return p.Ident.Subject
}

// RoleName is the last part of a role ARN, what people call the role.
func RoleName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// DisplayName is how pages name the person who signed in.
func (p *Principal) DisplayName() string {
	for _, k := range []string{"email", "preferred_username", "name"} {
		if v, ok := p.Ident.Claims[k].(string); ok && v != "" {
			return v
		}
	}
	return p.Ident.Subject
}
