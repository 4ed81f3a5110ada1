package core

// What the Cognito-compatible API needs beyond Grant: guest identities and
// their vends, identity lookup, and the SAML assertion check GetId makes
// before it creates an identity.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"fedgate/exchange"
	"fedgate/exchange/issuer"
	"fedgate/exchange/rules"
	"fedgate/gateway/store"
	"fedgate/idp"
)

// GuestProvider marks guest (unauthenticated) identities in the store and
// the audit log. It cannot collide with a provider id, which never
// contains ':'.
const GuestProvider = store.GuestProvider

// OpenIDTokenTTL is the lifetime of GetOpenIdToken's token, as Cognito's.
const OpenIDTokenTTL = 10 * time.Minute

// NewGuestIdentity creates a guest identity in pool. A guest's subject is
// its own identity id, so every call makes a new identity, as Cognito's
// GetId without logins does.
func (s *Core) NewGuestIdentity(ctx context.Context, pool *Pool) (string, error) {
	u, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return "", fmt.Errorf("generating identity id: %w", err)
	}
	newID := pool.Cfg.Region() + ":" + u.String()
	id, _, err := s.store.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: pool.Cfg.ID, Provider: GuestProvider, Subject: newID}, newID)
	if err != nil {
		return "", err
	}
	LogFrom(ctx, s.log).Info("guest identity created", "identity_id", id, "pool", pool.Cfg.ID)
	return id, nil
}

// LookupIdentity finds an identity by its id; store.ErrNotFound when there
// is none.
func (s *Core) LookupIdentity(ctx context.Context, id string) (*store.IdentityRecord, error) {
	now := s.now()
	if rec, ok := s.identities.record(id, now); ok {
		return rec, nil
	}
	gen := s.identities.generation()
	rec, err := s.store.LookupIdentity(ctx, id)
	if err != nil {
		return nil, err
	}
	s.identities.putRecord(gen, rec, now)
	return rec, nil
}

// VendGuest assumes the pool's unauthenticated role for a guest identity,
// with a token whose audience is the pool's guest audience and amr
// ["unauthenticated"]. Like Vend, it counts the attempt and audits the
// outcome.
func (s *Core) VendGuest(ctx context.Context, pool *Pool, identityID string) (*exchange.Credentials, *Error) {
	role := pool.Cfg.UnauthenticatedRole
	req := exchange.Request{
		PoolID:      pool.Cfg.ID,
		Audience:    pool.Cfg.GuestAudience(),
		IssuerURL:   pool.IssuerURL,
		IdentityID:  identityID,
		AMR:         []string{"unauthenticated"},
		RoleARN:     role,
		SessionName: rules.SessionName(identityID),
		Duration:    time.Duration(pool.Cfg.DurationSeconds) * time.Second,
	}
	log := LogFrom(ctx, s.log)
	creds, e := s.callMode(ctx, pool, req)
	if e != nil {
		log.Warn("vend refused", "identity_id", identityID, "pool", req.PoolID, "guest", true, "role", role, "code", e.Code, "cause", e.Cause.Error())
		s.auditGuest(ctx, pool, identityID, role, e)
		return nil, e
	}
	if err := s.auditGuest(ctx, pool, identityID, role, nil); err != nil {
		return nil, unaudited(err)
	}
	s.touchGuest(ctx, identityID)
	log.Info("credentials vended", "identity_id", identityID, "pool", req.PoolID, "guest", true, "role", role,
		"expires", creds.Expiration.UTC().Format(time.RFC3339))
	return creds, nil
}

// OpenIDToken mints the token of Cognito's GetOpenIdToken (the classic
// flow) for an identity the caller resolved: login is its verified
// sign-in, nil for a guest. The token lasts OpenIDTokenTTL and carries the
// pool's audience, amr ["authenticated", provider] and the login's session
// tags; a guest's, the guest audience and amr ["unauthenticated"]. The app
// exchanges it for credentials itself, so it is audited as a vend in all
// but the STS call. A refusal is FromTags' (the claims make no valid
// tags) or Internal (minting failed), with the underlying error as Cause.
func (s *Core) OpenIDToken(ctx context.Context, pool *Pool, identityID string, login *Principal) (string, *Error) {
	t := issuer.Token{Issuer: pool.IssuerURL, Subject: identityID, TTL: OpenIDTokenTTL}
	if login == nil {
		t.Audience, t.AMR = pool.Cfg.GuestAudience(), []string{"unauthenticated"}
	} else {
		t.Audience, t.AMR = pool.Cfg.Audience(), []string{"authenticated", login.Provider.Cfg.ID}
		tags, transitive, err := pool.Mapping.PrincipalTags(login.Ident.Claims, rules.Grant{})
		if err != nil {
			return "", FromTags(err)
		}
		t.Tags, t.TransitiveTagKeys = tags, transitive
	}
	token, err := s.issuer.Mint(ctx, t)
	if err != nil {
		return "", Internal(err)
	}
	LogFrom(ctx, s.log).Info("open id token issued", "identity_id", identityID, "pool", pool.Cfg.ID, "guest", login == nil)
	entry := store.AuditEntry{Kind: store.AuditVend, IdentityID: identityID, Provider: GuestProvider, Pool: pool.Cfg.ID,
		Result: store.AuditOK, Reason: "open id token (classic flow)"}
	if login != nil {
		entry.Provider, entry.Subject = login.Provider.Cfg.ID, login.Ident.Subject
	}
	s.Audit(ctx, entry)
	if login == nil {
		s.touchGuest(ctx, identityID)
	}
	return token, nil
}

// AuditGuestRefusal records a guest's credential request refused before
// any vend (a role other than the pool's unauthenticated role).
func (s *Core) AuditGuestRefusal(ctx context.Context, pool *Pool, identityID, role string, e *Error) {
	s.auditGuest(ctx, pool, identityID, role, e)
}

// auditGuest records a guest vend (e nil) or its refusal. A guest has no
// provider or subject: the entry names the guest marker and the identity.
func (s *Core) auditGuest(ctx context.Context, pool *Pool, identityID, role string, e *Error) error {
	entry := store.AuditEntry{Kind: store.AuditVend, IdentityID: identityID, Provider: GuestProvider, Pool: pool.Cfg.ID, Role: role,
		Result: store.AuditOK, Reason: "unauthenticated role"}
	if e != nil {
		entry.Result, entry.Reason = ResultOf(e), AuditReason(e)
	}
	return s.record(ctx, entry)
}

// CognitoAssertionFree checks, before GetId makes an identity, that a SAML
// login's assertion is neither spent at the ACS or the JSON API nor bound
// in another pool; the refusal wraps idp.ErrReplay. BindAssertion decides
// atomically; this only keeps a replay from leaving an identity behind.
func (s *Core) CognitoAssertionFree(ctx context.Context, poolID, provider, assertionID string) error {
	held, err := s.store.GetEphemeral(ctx, KindSAMLAssertion, SAMLReplayKey(provider, assertionID), s.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	case !bytes.HasPrefix(held, cognitoPoolPrefix(poolID)):
		return fmt.Errorf("%w: assertion %q was used at the ACS, the JSON API or another pool", idp.ErrReplay, assertionID)
	}
	return nil
}

// ListIdentities returns up to limit identities of a pool after the id
// after, in id order.
func (s *Core) ListIdentities(ctx context.Context, poolID, after string, limit int) ([]store.IdentityRecord, error) {
	return s.store.ListIdentities(ctx, poolID, after, limit)
}

// DeleteIdentity deletes an identity and audits it as a change by actor.
// Its logins get a new identity the next time they sign in.
func (s *Core) DeleteIdentity(ctx context.Context, rec *store.IdentityRecord, actor, why string) error {
	if err := s.store.DeleteIdentity(ctx, rec.ID); err != nil {
		return err
	}
	s.IdentitiesChanged()
	LogFrom(ctx, s.log).Info("identity deleted", "identity_id", rec.ID, "pool", rec.PoolID, "actor", actor)
	s.Audit(ctx, store.AuditEntry{Kind: store.AuditAdminChange, Actor: actor, IdentityID: rec.ID, Pool: rec.PoolID,
		Provider: rec.Provider, Subject: rec.Subject, Result: store.AuditOK, Reason: "identity deleted (" + why + ")"})
	return nil
}
