package cognito

// Identity linking as Amazon Cognito does it: several logins, one
// identity; a guest upgraded by logins keeps its id; UnlinkIdentity.

import (
	"context"
	"errors"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/store"
	"fedgate/gateway/wire"
)

// actorCognito names, in the audit log, changes the unsigned operations
// make on behalf of the person whose logins they carry.
const actorCognito = "cognito-api"

func loginKeyOf(pool *core.Pool, l *verifiedLogin) store.IdentityKey {
	return store.IdentityKey{PoolID: pool.Cfg.ID, Provider: l.provider.Cfg.ID, Subject: l.ident.Subject}
}

func principals(pool *core.Pool, verified []verifiedLogin) []*core.Principal {
	out := make([]*core.Principal, len(verified))
	for i, l := range verified {
		out[i] = &core.Principal{Pool: pool, Provider: l.provider, Ident: l.ident}
	}
	return out
}

func linkError(err error) *core.Error {
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return apiError(ErrResourceConflict, "The identity changed while linking its logins; try again.", err)
	}
	return storeError(err)
}

// linkAttempts bounds how often a request whose logins another request
// changed meanwhile (a login given an identity, the target merged away)
// starts over from what the store now holds.
const linkAttempts = 3

// raced is a link refused because another request changed the logins
// first: starting over sees the change.
func raced(err error) bool {
	return errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound)
}

// identityOfLogins is GetId's identity for verified logins (in the pool's
// provider order): the identity of the first login that has one, else a
// new identity of the first login. Every other login is linked to it; a
// login of another identity merges that identity into it. A request
// that loses a race with another (a new login signing in on its own
// meanwhile) starts over, and so ends on the winner's identity or
// merges it, as if the two had come one after the other.
func (api *API) identityOfLogins(ctx context.Context, pool *core.Pool, verified []verifiedLogin) (string, *core.Error) {
	for attempt := 1; ; attempt++ {
		id, e, err := api.identityOfLoginsOnce(ctx, pool, verified)
		if err == nil || !raced(err) || attempt == linkAttempts {
			if err != nil {
				return "", linkError(err)
			}
			return id, e
		}
		core.LogFrom(ctx, api.log).Info("logins changed by another request while linking; starting over", "pool", pool.Cfg.ID, "attempt", attempt)
	}
}

// identityOfLoginsOnce is one attempt of identityOfLogins: e is a
// refusal, err a link the store refused.
func (api *API) identityOfLoginsOnce(ctx context.Context, pool *core.Pool, verified []verifiedLogin) (string, *core.Error, error) {
	ps := principals(pool, verified)
	if len(ps) == 1 {
		id, err := api.core.IdentityID(ctx, ps[0])
		if err != nil {
			return "", storeError(err), nil
		}
		return id, api.bindAssertions(ctx, pool, id, verified), nil
	}
	target := ""
	for _, p := range ps {
		owner, err := api.core.IdentityOfLogin(ctx, p)
		if err != nil {
			return "", storeError(err), nil
		}
		if owner != "" {
			target = owner
			break
		}
	}
	if target == "" {
		id, err := api.core.IdentityID(ctx, ps[0])
		if err != nil {
			return "", storeError(err), nil
		}
		target = id
	}
	// Assertions bound elsewhere refuse the request before anything moves.
	if e := api.bindAssertions(ctx, pool, target, verified); e != nil {
		return "", e, nil
	}
	if _, err := api.core.LinkLogins(ctx, target, ps, actorCognito); err != nil {
		return "", nil, err
	}
	return target, nil, nil
}

// upgradeGuest turns a guest presented with logins into an authenticated
// identity, as Cognito does when an app signs its guest in: if no login
// has an identity, the guest keeps its id and the logins become its;
// otherwise the guest merges into the identity of the first login that
// has one, whose id the answer carries. Pools that no longer allow
// guests do not upgrade them.
func (api *API) upgradeGuest(ctx context.Context, pool *core.Pool, guestID string, verified []verifiedLogin) (*resolvedIdentity, *core.Error) {
	if !pool.Cfg.AllowGuests {
		return nil, forbidden(guestID)
	}
	ps := principals(pool, verified)
	target := guestID
	for _, p := range ps {
		owner, err := api.core.IdentityOfLogin(ctx, p)
		if err != nil {
			return nil, storeError(err)
		}
		if owner != "" {
			target = owner
			break
		}
	}
	if e := api.bindAssertions(ctx, pool, target, verified); e != nil {
		return nil, e
	}
	if target != guestID {
		if err := api.core.MergeIdentity(ctx, guestID, target, pool.Cfg.ID, actorCognito); err != nil {
			return nil, linkError(err)
		}
	}
	if err := api.linkInto(ctx, target, ps); err != nil {
		return nil, linkError(err)
	}
	core.NoteAudit(ctx, core.AuditNote{IdentityID: target})
	return &resolvedIdentity{id: target, pool: pool, login: &verified[0]}, nil
}

// unlinkIdentity is UnlinkIdentity (unsigned): the caller proves the
// identity with Logins, then the logins named by LoginsToRemove (their
// keys) leave it. A removed login gets a new identity the next time it
// signs in; an identity whose last login is removed is disabled.
func (api *API) unlinkIdentity(c *gin.Context, body []byte) (any, *core.Error) {
	var in wire.UnlinkIdentityInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := checkID("identityId", in.IdentityID, true); e != nil {
		return nil, e
	}
	if e := checkLogins(in.Logins); e != nil {
		return nil, e
	}
	if len(in.LoginsToRemove) > maxLogins {
		return nil, validationError("loginsToRemove", "Member must have length less than or equal to 10")
	}
	ctx := c.Request.Context()
	r, e := api.resolveIdentity(ctx, in.IdentityID, in.Logins)
	if e != nil {
		return nil, e
	}
	if r.login == nil {
		return nil, apiError(ErrNotAuthorized, msgLoginsDontMatch, nil)
	}
	known, err := api.core.LoginsOf(ctx, r.id)
	if err != nil {
		return nil, storeError(err)
	}
	for _, key := range in.LoginsToRemove {
		removed := false
		for _, p := range r.pool.Providers {
			m, ok := loginMethodOf(api.core, r.pool, p)
			if !ok || m.key != key {
				continue
			}
			for _, k := range known {
				if k.Provider == p.Cfg.ID {
					if err := api.core.UnlinkLogin(ctx, r.id, k, actorCognito); err != nil && !errors.Is(err, store.ErrNotFound) {
						return nil, storeError(err)
					}
					removed = true
				}
			}
		}
		if !removed {
			return nil, apiError(ErrInvalidParameter, "The identity has no login for '"+key+"'.", nil)
		}
	}
	return struct{}{}, nil
}

// linkInto links logins to the identity id the request proved. A login
// another request gave an identity meanwhile is merged in on the next
// attempt, as if that request had come first.
func (api *API) linkInto(ctx context.Context, id string, ps []*core.Principal) error {
	var err error
	for range linkAttempts {
		if _, err = api.core.LinkLogins(ctx, id, ps, actorCognito); !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return err
}
