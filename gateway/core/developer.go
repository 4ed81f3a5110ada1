package core

// Developer-authenticated identities, as Amazon Cognito has them: a
// backend that signs in its users itself names them by a developer user
// identifier under the pool's developer provider, gets a fedgate token for
// the user's identity, and hands it to the app, which presents it as the
// login cognito-identity.amazonaws.com. The rules then apply to the
// developer login's claims (DeveloperClaims).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fedgate/exchange/issuer"
	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
	"fedgate/idp"
)

// DeveloperProvider marks developer logins in the store and the audit log.
const DeveloperProvider = store.DeveloperProvider

// DeveloperTokenTTL is the lifetime of a developer token when the backend
// names none: the issuer's cap (Cognito's default, 15 minutes, is longer
// than any token fedgate mints).
const DeveloperTokenTTL = issuer.MaxTokenTTL

// ClaimDeveloperProvider is the developer login's claim naming the pool's
// developer provider.
const ClaimDeveloperProvider = "developer_provider_name"

// IsReservedDeveloperClaim tells the names that may not be principal tag
// keys: they are the developer login's own claims.
func IsReservedDeveloperClaim(name string) bool {
	return name == "sub" || name == "amr" || name == ClaimDeveloperProvider
}

// developerProvider is the pseudo-provider of developer logins: it has an
// id for the store and the audit log, and no upstream.
func developerProvider() *Provider {
	return &Provider{Cfg: config.Provider{ID: DeveloperProvider}}
}

// DeveloperAMR is the amr of a developer login, Cognito's shape:
// authenticated, the provider name, and name:pool:user.
func DeveloperAMR(pool *Pool, userID string) []string {
	name := pool.Cfg.DeveloperProviderName
	return []string{"authenticated", name, name + ":" + pool.Cfg.ID + ":" + userID}
}

// DeveloperClaims are what the rules and principal tags of the pool see of
// a developer login: the backend's principal tags, sub (the developer user
// identifier), amr (DeveloperAMR) and developer_provider_name.
func DeveloperClaims(pool *Pool, userID string, tags map[string]string) map[string]any {
	claims := make(map[string]any, len(tags)+3)
	for k, v := range tags {
		claims[k] = v
	}
	amr := DeveloperAMR(pool, userID)
	claims["sub"] = userID
	claims["amr"] = []any{amr[0], amr[1], amr[2]}
	claims[ClaimDeveloperProvider] = pool.Cfg.DeveloperProviderName
	return claims
}

// DeveloperPrincipal is a developer login of pool.
func DeveloperPrincipal(pool *Pool, userID string, tags map[string]string) *Principal {
	return &Principal{Pool: pool, Provider: developerProvider(),
		Ident: &idp.Identity{Provider: DeveloperProvider, Subject: userID, Claims: DeveloperClaims(pool, userID, tags)}}
}

// DeveloperKey is a developer user identifier as the store keys it.
func DeveloperKey(pool *Pool, userID string) store.IdentityKey {
	return store.IdentityKey{PoolID: pool.Cfg.ID, Provider: DeveloperProvider, Subject: userID}
}

// developerAudience is the aud of developer tokens: the pool's own only
// where the classic flow lets apps assume roles with fedgate tokens
// themselves; otherwise one no role trusts, so the rules stay the gate.
func developerAudience(pool *Pool) string {
	if pool.Cfg.AllowClassicFlow {
		return pool.Cfg.Audience()
	}
	return pool.Cfg.DeveloperAudience()
}

// DeveloperToken mints the token of GetOpenIdTokenForDeveloperIdentity for
// identity id and the developer login p, lasting ttl (0: DeveloperTokenTTL;
// the caller has checked it is within the issuer's cap). It carries the
// principal tags the pool's mapping makes of the login's claims, as
// GetOpenIdToken's does, and the backend's tags for the way back. The
// issuance is audited.
func (s *Core) DeveloperToken(ctx context.Context, p *Principal, id string, tags map[string]string, ttl time.Duration, actor string) (string, *Error) {
	if ttl == 0 {
		ttl = DeveloperTokenTTL
	}
	pool := p.Pool
	t := issuer.Token{Issuer: pool.IssuerURL, Subject: id, Audience: developerAudience(pool), AMR: DeveloperAMR(pool, p.Ident.Subject),
		TTL: ttl, PrincipalTags: tags}
	sessionTags, transitive, err := pool.Mapping.PrincipalTags(p.Ident.Claims, rules.Grant{})
	if err != nil {
		return "", FromTags(err)
	}
	t.Tags, t.TransitiveTagKeys = sessionTags, transitive
	token, err := s.issuer.Mint(ctx, t)
	if err != nil {
		return "", Internal(err)
	}
	LogFrom(ctx, s.log).Info("developer identity token issued", "identity_id", id, "pool", pool.Cfg.ID, "ttl", ttl.String())
	s.auditChange(ctx, store.AuditEntry{Kind: store.AuditVend, Actor: actor, IdentityID: id, Provider: DeveloperProvider, Subject: p.Ident.Subject,
		Pool: pool.Cfg.ID, Result: store.AuditOK, Reason: "developer identity token (" + ttl.String() + ")"})
	return token, nil
}

// ErrDeveloperToken wraps every refusal of VerifyDeveloperToken; the
// message says why without echoing the token.
var ErrDeveloperToken = errors.New("not a developer identity token of this pool")

// VerifyDeveloperToken checks a token presented as the login
// cognito-identity.amazonaws.com: a token this gateway minted for the
// pool's developer provider (issuer.Verify), whose developer user
// identifier is still linked to the identity it names (sub). It returns
// the developer login, with the identity in KnownID.
func (s *Core) VerifyDeveloperToken(ctx context.Context, pool *Pool, raw string) (*Principal, error) {
	name := pool.Cfg.DeveloperProviderName
	if name == "" {
		return nil, fmt.Errorf("%w: the pool has no developer provider", ErrDeveloperToken)
	}
	v, err := s.issuer.Verify(raw, issuer.Expect{Issuer: pool.IssuerURL, Audiences: []string{pool.Cfg.Audience(), pool.Cfg.DeveloperAudience()}})
	if err != nil {
		return nil, errors.Join(ErrDeveloperToken, err)
	}
	prefix := name + ":" + pool.Cfg.ID + ":"
	if len(v.AMR) != 3 || v.AMR[0] != "authenticated" || v.AMR[1] != name || !strings.HasPrefix(v.AMR[2], prefix) || len(v.AMR[2]) == len(prefix) {
		return nil, fmt.Errorf("%w: its amr is not this pool's developer provider's", ErrDeveloperToken)
	}
	userID := strings.TrimPrefix(v.AMR[2], prefix)
	for name := range v.PrincipalTags {
		if IsReservedDeveloperClaim(name) {
			return nil, fmt.Errorf("%w: a principal tag is named %q", ErrDeveloperToken, name)
		}
	}
	p := DeveloperPrincipal(pool, userID, v.PrincipalTags)
	owner, err := s.IdentityOfLogin(ctx, p)
	if err != nil {
		return nil, err
	}
	if owner != v.Subject {
		return nil, fmt.Errorf("%w: the developer user is no longer linked to the identity", ErrDeveloperToken)
	}
	p.KnownID = owner
	return p, nil
}

// IsDeveloperTokenError tells a refused developer token from a store failure.
func IsDeveloperTokenError(err error) bool { return errors.Is(err, ErrDeveloperToken) }

// IsExpiredDeveloperToken tells an expired developer token.
func IsExpiredDeveloperToken(err error) bool { return errors.Is(err, issuer.ErrTokenExpired) }

// ErrDeveloperUserRegistered: the developer user identifier is linked to
// another identity of the pool.
var ErrDeveloperUserRegistered = errors.New("the developer user is linked to another identity")

// LinkDeveloper makes the developer login p belong to identity id (of
// p's pool). A developer user identifier belongs to one identity:
// linked to another, it is ErrDeveloperUserRegistered, and nothing moves
// (unlike LinkLogins, which merges). Linking it to the identity it
// already has is no change.
func (s *Core) LinkDeveloper(ctx context.Context, id string, p *Principal, actor string) error {
	owner, err := s.IdentityOfLogin(ctx, p)
	switch {
	case err != nil:
		return err
	case owner == id:
		return nil
	case owner != "":
		return ErrDeveloperUserRegistered
	}
	if err := s.store.LinkLogin(ctx, id, LoginKey(p)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return ErrDeveloperUserRegistered
		}
		return err
	}
	s.IdentitiesChanged()
	s.auditLink(ctx, p, id, actor, "developer user linked to the identity")
	return nil
}

// NewDeveloperIdentity creates the identity of a developer login that has
// none (or finds the one a concurrent request created) and audits the
// creation as a link.
func (s *Core) NewDeveloperIdentity(ctx context.Context, p *Principal, actor string) (string, error) {
	id, err := s.IdentityID(ctx, p)
	if err != nil {
		return "", err
	}
	s.auditLink(ctx, p, id, actor, "identity created for the developer user")
	return id, nil
}
