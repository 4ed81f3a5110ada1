package cli

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
	"fedgate/gateway/wire"
	"fedgate/idp"
)

// principal is the signed-in person of a CLI session, in a pool that
// accepts the provider they signed in with (by default the pool they
// signed in through).
func (s *CLI) principal(a *auth, poolKey string) (*core.Principal, *core.Error) {
	if poolKey == "" {
		poolKey = a.rec.PoolID
	}
	pool, e := s.core.LookupPool(poolKey)
	if e != nil {
		return nil, e
	}
	prov := pool.Provider(a.rec.Owner.Provider)
	if prov == nil {
		return nil, core.Errorf(http.StatusForbidden, core.CodeUnknownProvider, "The pool %q does not accept the identity provider you signed in with.", pool.Cfg.DisplayName)
	}
	if pool.Spec.Forwards == exchange.ForwardIDToken && a.sealed.RawToken == "" {
		return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The pool %q forwards your identity provider's token to AWS; sign in through it with fedgate login --pool %s.", pool.Cfg.DisplayName, pool.Cfg.Name)
	}
	return &core.Principal{Pool: pool, Provider: prov, Ident: &idp.Identity{
		Provider: a.rec.Owner.Provider, Subject: a.rec.Owner.Subject, Claims: a.sealed.Claims, RawToken: a.sealed.RawToken,
	}}, nil
}

// credentials is POST /cli/credentials {pool, role_arn, duration_seconds}.
func (s *CLI) credentials(c *gin.Context, a *auth) {
	// A refusal from here on is audited as this person's.
	core.NoteAudit(c.Request.Context(), core.AuditNote{Provider: a.rec.Owner.Provider, Subject: a.rec.Owner.Subject})
	var req wire.CredentialsRequest
	if e := httpkit.DecodeJSON(c, &req); e != nil {
		s.kit.Fail(c, e)
		return
	}
	if req.Provider != "" && req.Provider != a.rec.Owner.Provider {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "This CLI session belongs to another identity provider."))
		return
	}
	p, e := s.principal(a, req.Pool)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	creds, id, e := s.core.Grant(c.Request.Context(), p, req.RoleARN, req.DurationSeconds)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, core.WireCredentials(creds, id))
}

// roles is GET /cli/roles[?pool=]: the roles the rules give the
// session's person now, in every pool that accepts their provider.
func (s *CLI) roles(c *gin.Context, a *auth) {
	var pools []*core.Pool
	if key := c.Query("pool"); key != "" {
		pool, e := s.core.LookupPool(key)
		if e != nil {
			s.kit.Fail(c, e)
			return
		}
		pools = []*core.Pool{pool}
	} else {
		pools = s.core.Snapshot().Ordered
	}
	roles := []wire.CLIRole{}
	for _, pool := range pools {
		p, e := s.principal(a, pool.Cfg.ID)
		if e != nil {
			continue // the pool does not take this session's provider
		}
		for _, g := range p.Entitlements().Grants {
			roles = append(roles, wire.CLIRole{
				PoolID: pool.Cfg.ID, PoolName: pool.Cfg.Name, PoolDisplay: pool.Cfg.DisplayName, Region: pool.Cfg.Region(),
				RoleARN: g.Role, RoleName: core.RoleName(g.Role), Rule: g.Rule,
			})
		}
	}
	httpkit.WriteJSON(c, http.StatusOK, wire.CLIRoleList{Roles: roles})
}

// pools is GET /cli/pools: what `fedgate login` can sign in to (the
// same facts the public start page shows).
func (s *CLI) pools(c *gin.Context) {
	out := []wire.CLIPool{}
	for _, p := range s.core.Snapshot().Ordered {
		cp := wire.CLIPool{ID: p.Cfg.ID, Name: p.Cfg.Name, DisplayName: p.Cfg.DisplayName, Providers: []string{}}
		for _, lp := range p.Providers {
			cp.Providers = append(cp.Providers, lp.Cfg.ID)
		}
		out = append(out, cp)
	}
	httpkit.WriteJSON(c, http.StatusOK, wire.CLIPoolList{Pools: out, Console: &wire.CLIConsole{
		FederationURL: s.cfg.Console.FederationURL, Destination: s.cfg.Console.Destination,
	}})
}

// listSessions is GET /cli/sessions: the caller's live CLI sessions.
func (s *CLI) listSessions(c *gin.Context, a *auth) {
	list, err := s.store.ListCLISessions(c.Request.Context(), a.rec.Owner, s.now())
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	out := make([]wire.CLISession, 0, len(list))
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	for _, cs := range list {
		out = append(out, wire.CLISession{
			ID: cs.ID, PoolID: cs.PoolID, Provider: cs.Owner.Provider, Method: cs.Method, Client: cs.Client,
			CreatedAt: ts(cs.CreatedAt), ExpiresAt: ts(cs.ExpiresAt), LastUsedAt: ts(cs.LastUsedAt), Current: cs.ID == a.rec.ID,
		})
	}
	httpkit.WriteJSON(c, http.StatusOK, wire.CLISessionList{Sessions: out})
}

// revokeSession is DELETE /cli/sessions/:id ("current" is the caller's
// own): a person can revoke only their own sessions.
func (s *CLI) revokeSession(c *gin.Context, a *auth) {
	id := c.Param("id")
	if id == "current" {
		id = a.rec.ID
	}
	if len(id) > 64 {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "That is not a session id."))
		return
	}
	if err := s.store.DeleteCLISession(c.Request.Context(), a.rec.Owner, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.kit.Fail(c, core.Errorf(http.StatusNotFound, core.CodeNotFound, "You have no CLI session with that id."))
			return
		}
		s.kit.Fail(c, core.Internal(err))
		return
	}
	core.LogFrom(c.Request.Context(), s.log).Info("CLI session revoked", "session_id", id, "by_session", a.rec.ID, "provider", a.rec.Owner.Provider, "subject", a.rec.Owner.Subject)
	c.Status(http.StatusNoContent)
}
