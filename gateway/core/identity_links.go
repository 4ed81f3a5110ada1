package core

// Identity linking, as Amazon Cognito does it: an identity holds several
// logins; a login presented with a login of an identity joins it; logins
// of two identities merge them into one; a guest presented with logins
// becomes authenticated and keeps its id. Each change is audited. An
// identity cache in front of the store must drop both identities of a
// merge and the identity of a link or unlink (h10perf's hook goes here).

import (
	"context"
	"errors"

	"fedgate/gateway/store"
)

// LoginKey is a login as the store keys it.
func LoginKey(p *Principal) store.IdentityKey {
	return store.IdentityKey{PoolID: p.Pool.Cfg.ID, Provider: p.Provider.Cfg.ID, Subject: p.Ident.Subject}
}

// IdentityOfLogin is the identity a login belongs to, "" when none.
func (s *Core) IdentityOfLogin(ctx context.Context, p *Principal) (string, error) {
	id, err := s.store.IdentityOfLogin(ctx, LoginKey(p))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return id, err
}

// LoginsOf are an identity's logins, its first login first.
func (s *Core) LoginsOf(ctx context.Context, id string) ([]store.IdentityKey, error) {
	return s.store.LoginsOf(ctx, id)
}

// LinkLogins makes every login belong to identity id: a login of no
// identity is linked to it, the identity of a login that has another is
// merged into it (and deleted). It returns the identities merged away.
func (s *Core) LinkLogins(ctx context.Context, id string, logins []*Principal, actor string) (merged []string, err error) {
	for _, p := range logins {
		owner, err := s.IdentityOfLogin(ctx, p)
		switch {
		case err != nil:
			return merged, err
		case owner == id:
			continue
		case owner == "":
			if err := s.store.LinkLogin(ctx, id, LoginKey(p)); err != nil {
				return merged, err
			}
			s.IdentitiesChanged()
			s.auditLink(ctx, p, id, actor, "login linked to the identity")
		default:
			if err := s.MergeIdentity(ctx, owner, id, p.Pool.Cfg.ID, actor); err != nil {
				return merged, err
			}
			merged = append(merged, owner)
		}
	}
	return merged, nil
}

// MergeIdentity moves every login of identity from to identity into and
// deletes from.
func (s *Core) MergeIdentity(ctx context.Context, from, into, pool, actor string) error {
	if err := s.store.MergeIdentity(ctx, from, into); err != nil {
		return err
	}
	s.IdentitiesChanged()
	LogFrom(ctx, s.log).Info("identities merged", "from", from, "into", into, "pool", pool)
	s.auditChange(ctx, store.AuditEntry{Kind: store.AuditAdminChange, Actor: actor, IdentityID: into, Pool: pool, Result: store.AuditOK,
		Reason: "identity " + from + " merged into this identity"})
	return nil
}

// UnlinkLogin removes one login from identity id; the next sign-in with
// it makes a new identity.
func (s *Core) UnlinkLogin(ctx context.Context, id string, k store.IdentityKey, actor string) error {
	if err := s.store.UnlinkLogin(ctx, id, k); err != nil {
		return err
	}
	s.IdentitiesChanged()
	LogFrom(ctx, s.log).Info("login unlinked", "identity_id", id, "pool", k.PoolID, "provider", k.Provider)
	s.auditChange(ctx, store.AuditEntry{Kind: store.AuditAdminChange, Actor: actor, IdentityID: id, Pool: k.PoolID, Provider: k.Provider,
		Subject: k.Subject, Result: store.AuditOK, Reason: "login unlinked from the identity"})
	return nil
}

func (s *Core) auditLink(ctx context.Context, p *Principal, id, actor, reason string) {
	LogFrom(ctx, s.log).Info("login linked", "identity_id", id, "pool", p.Pool.Cfg.ID, "provider", p.Provider.Cfg.ID)
	s.auditChange(ctx, store.AuditEntry{Kind: store.AuditAdminChange, Actor: actor, IdentityID: id, Pool: p.Pool.Cfg.ID,
		Provider: p.Provider.Cfg.ID, Subject: p.Ident.Subject, Result: store.AuditOK, Reason: reason})
}

// auditChange records an identity change made while serving a request,
// leaving the request's own outcome (a vend, a refusal) still to record.
func (s *Core) auditChange(ctx context.Context, e store.AuditEntry) {
	if _, err := s.store.AppendAudit(context.WithoutCancel(ctx), WithAuditMeta(ctx, e)); err != nil {
		LogFrom(ctx, s.log).Error("writing the audit log failed", "kind", e.Kind, "error", err)
	}
}
