package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"fedgate/exchange"
	"fedgate/exchange/issuer"
	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
	"fedgate/idp"
)

// guestProvider marks guest (unauthenticated) identities in the store. It
// cannot collide with a provider id, which never contains ':'. A guest's
// subject is its own identity id, so every GetId without logins makes a
// new identity, as Cognito does.
const guestProvider = "cognito:unauthenticated"

// loginMethod is how one of a pool's providers takes part in Logins: the
// key its logins come under and how a login value is verified.
type loginMethod struct {
	key string
	// verify checks a login value; for a SAML response it also names the
	// assertion, which the request then binds to its identity
	// (cognito_saml.go). OIDC logins return a nil ref.
	verify func(ctx context.Context, raw string) (*idp.Identity, *idp.AssertionRef, error)
	// checkIssuer: the value is a JWT whose iss must match the key.
	checkIssuer bool
}

// loginMethodOf is the provider's Logins method in the pool, if it has
// one: OIDC providers by issuer, SAML providers by the pool's IAM SAML
// provider ARN (cognito_saml.go).
func loginMethodOf(pool *core.Pool, p *core.Provider) (loginMethod, bool) {
	if tv, ok := p.Provider.(idp.TokenVerifier); ok && p.Cfg.Type == config.ProviderOIDC {
		key := issuerLoginKey(p.Cfg.Issuer)
		verify := func(ctx context.Context, raw string) (*idp.Identity, *idp.AssertionRef, error) {
			ident, err := tv.VerifyToken(ctx, raw)
			return ident, nil, err
		}
		return loginMethod{key: key, verify: verify, checkIssuer: true}, key != ""
	}
	return samlLoginMethod(pool, p)
}

// issuerLoginKey turns an OIDC issuer URL into its Logins key: the issuer
// without its scheme (host, port when it has one, path), so
// https://login.example.com/realms/x is "login.example.com/realms/x" and
// the loopback test IdP http://127.0.0.1:4000 is "127.0.0.1:4000".
func issuerLoginKey(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return u.Host + strings.TrimRight(u.Path, "/")
}

// verifiedLogin is one entry of Logins that passed verification.
type verifiedLogin struct {
	provider *core.Provider
	ident    *idp.Identity
	// assertion names a SAML login's assertion, nil for other logins.
	assertion *idp.AssertionRef
}

// verifyLogins verifies every login against the pool's providers and
// returns them in the pool's provider order (the first is the one GetId
// binds the identity to). Any bad login refuses the whole request.
func (api *cognitoAPI) verifyLogins(ctx context.Context, pool *core.Pool, logins map[string]string) ([]verifiedLogin, *core.Error) {
	keys := make([]string, 0, len(logins))
	for k := range logins {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]verifiedLogin, 0, len(keys))
	for _, key := range keys {
		var prov *core.Provider
		var m loginMethod
		for _, p := range pool.Providers {
			if pm, ok := loginMethodOf(pool, p); ok && pm.key == key {
				prov, m = p, pm
				break
			}
		}
		if prov == nil {
			return nil, cogError(cogNotAuthorized, msgUnsupportedProvider, nil)
		}
		core.NoteAudit(ctx, core.AuditNote{Provider: prov.Cfg.ID}) // audit_refusals.go
		token := logins[key]
		// The token's own claim is only a hint here (verification checks
		// it again), but it gives the precise refusal AWS gives.
		if iss := core.UnverifiedIssuer(token); m.checkIssuer && iss != "" && issuerLoginKey(iss) != key {
			return nil, cogError(cogNotAuthorized, "Invalid login token. Issuer doesn't match providerName", nil)
		}
		ident, ref, err := m.verify(ctx, token)
		if err != nil {
			if !m.checkIssuer {
				return nil, samlLoginError(err)
			}
			return nil, loginError(err)
		}
		out = append(out, verifiedLogin{provider: prov, ident: ident, assertion: ref})
	}
	slices.SortStableFunc(out, func(a, b verifiedLogin) int {
		return slices.Index(pool.Providers, a.provider) - slices.Index(pool.Providers, b.provider)
	})
	return out, nil
}

// loginError maps a token verification failure to the refusal an AWS SDK
// expects, without echoing claims.
func loginError(err error) *core.Error {
	switch {
	case errors.Is(err, idp.ErrExpiredToken):
		return cogError(cogNotAuthorized, "Invalid login token. Token expired.", err)
	case errors.Is(err, idp.ErrWrongAudience):
		return cogError(cogNotAuthorized, "Invalid login token. Incorrect token audience.", err)
	case errors.Is(err, idp.ErrWrongIssuer):
		return cogError(cogNotAuthorized, "Invalid login token. Issuer doesn't match providerName", err)
	case errors.Is(err, idp.ErrUpstream):
		return cogError(cogExternalService, "The identity provider could not be reached. Try again in a moment.", err)
	default:
		return cogError(cogNotAuthorized, "Invalid login token. Not a valid OpenId Connect identity token.", err)
	}
}

func forbidden(identityID string) *core.Error {
	return cogError(cogNotAuthorized, "Access to Identity '"+identityID+"' is forbidden.", nil)
}

// pool finds a pool by its exact id (names are not identity pool ids).
func (api *cognitoAPI) pool(id string) (*core.Pool, *core.Error) {
	if p := api.s.core.Snapshot().Pools[id]; p != nil && p.Cfg.ID == id {
		return p, nil
	}
	return nil, cogError(cogResourceNotFound, "IdentityPool '"+id+"' not found.", nil)
}

func storeError(err error) *core.Error {
	if errors.Is(err, store.ErrConflict) {
		return cogError(cogResourceConflict, "The identity could not be created; try again.", err)
	}
	return cogError(cogInternalError, "An internal error occurred.", err)
}

// getID is GetId: the identity of the first login (in the pool's provider
// order), created on first use; or, without logins, a new guest identity.
func (api *cognitoAPI) getID(c *gin.Context, body []byte) (any, *core.Error) {
	in, e := parseGetID(body)
	if e != nil {
		return nil, e
	}
	pool, e := api.pool(in.IdentityPoolID)
	if e != nil {
		return nil, e
	}
	ctx := c.Request.Context()
	core.NoteAudit(ctx, core.AuditNote{Pool: pool.Cfg.ID}) // audit_refusals.go
	if len(in.Logins) == 0 {
		if !pool.Cfg.AllowGuests {
			return nil, cogError(cogNotAuthorized, msgUnauthNotSupported, nil)
		}
		id, e := api.newGuest(ctx, pool)
		if e != nil {
			return nil, e
		}
		return getIDOutput{IdentityID: id}, nil
	}
	verified, e := api.verifyLogins(ctx, pool, in.Logins)
	if e != nil {
		return nil, e
	}
	// A SAML assertion used elsewhere is refused before an identity is made.
	if e := api.s.assertionsFree(ctx, pool, verified); e != nil {
		return nil, e
	}
	first := verified[0]
	id, err := api.s.core.IdentityID(ctx, &core.Principal{Pool: pool, Provider: first.provider, Ident: first.ident})
	if err != nil {
		return nil, storeError(err)
	}
	if e := api.s.bindAssertions(ctx, pool, id, verified); e != nil {
		return nil, e
	}
	return getIDOutput{IdentityID: id}, nil
}

func (api *cognitoAPI) newGuest(ctx context.Context, pool *core.Pool) (string, *core.Error) {
	u, err := uuid.NewRandomFromReader(api.s.rand)
	if err != nil {
		return "", cogError(cogInternalError, "An internal error occurred.", fmt.Errorf("generating identity id: %w", err))
	}
	newID := pool.Cfg.Region() + ":" + u.String()
	id, _, err := api.s.store.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: pool.Cfg.ID, Provider: guestProvider, Subject: newID}, newID)
	if err != nil {
		return "", storeError(err)
	}
	core.LogFrom(ctx, api.s.log).Info("guest identity created", "identity_id", id, "pool", pool.Cfg.ID)
	return id, nil
}

// resolvedIdentity is an identity the request proved it may use: a guest
// (login nil) or the identity of one of its verified logins.
type resolvedIdentity struct {
	id    string
	pool  *core.Pool
	login *verifiedLogin
}

// resolveIdentity checks that the presented IdentityId belongs to the
// presented logins (or is a guest presented without logins, in a pool
// that still allows guests).
func (api *cognitoAPI) resolveIdentity(ctx context.Context, id string, logins map[string]string) (*resolvedIdentity, *core.Error) {
	r, e := api.ownedIdentity(ctx, id, logins)
	if e != nil {
		return nil, e
	}
	// Charged only once the caller has proved the identity is theirs: a
	// stranger who knows an identity id (it is the sub of every token
	// fedgate mints) must not be able to spend its owner's budget.
	if !api.byIdentity.Allow(id) {
		return nil, cogError(cogTooManyRequests, msgRateExceeded, errors.New("identity over its rate limit"))
	}
	return r, nil
}

// ownedIdentity is resolveIdentity before the per-identity rate limit.
func (api *cognitoAPI) ownedIdentity(ctx context.Context, id string, logins map[string]string) (*resolvedIdentity, *core.Error) {
	rec, err := api.s.store.LookupIdentity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, cogError(cogResourceNotFound, "Identity '"+id+"' not found.", nil)
	}
	if err != nil {
		return nil, storeError(err)
	}
	core.NoteAudit(ctx, core.AuditNote{Pool: rec.PoolID, IdentityID: id}) // audit_refusals.go
	pool, e := api.pool(rec.PoolID)
	if e != nil {
		return nil, e
	}
	if rec.Provider == guestProvider {
		if len(logins) > 0 {
			// Cognito would link the logins to the guest; fedgate does not
			// link identities, so a guest id stays a guest's.
			return nil, forbidden(id)
		}
		if !pool.Cfg.AllowGuests {
			return nil, cogError(cogNotAuthorized, msgUnauthNotSupported, nil)
		}
		return &resolvedIdentity{id: id, pool: pool}, nil
	}
	if len(logins) == 0 {
		return nil, cogError(cogNotAuthorized, msgLoginsDontMatch, nil)
	}
	verified, e := api.verifyLogins(ctx, pool, logins)
	if e != nil {
		return nil, e
	}
	for i := range verified {
		l := &verified[i]
		if l.provider.Cfg.ID == rec.Provider && l.ident.Subject == rec.Subject {
			if e := api.s.bindAssertions(ctx, pool, id, verified); e != nil {
				return nil, e
			}
			return &resolvedIdentity{id: id, pool: pool, login: l}, nil
		}
	}
	return nil, forbidden(id)
}

// getCredentialsForIdentity is GetCredentialsForIdentity: the rules pick
// the role (the first grant when several apply and no CustomRoleArn is
// given; CustomRoleArn only when the rules grant it), then the pool's
// exchange mode vends.
func (api *cognitoAPI) getCredentialsForIdentity(c *gin.Context, body []byte) (any, *core.Error) {
	in, e := parseGetCredentials(body)
	if e != nil {
		return nil, e
	}
	ctx := c.Request.Context()
	r, e := api.resolveIdentity(ctx, in.IdentityID, in.Logins)
	if e != nil {
		return nil, e
	}
	var creds *exchange.Credentials
	if r.login == nil {
		creds, e = api.vendGuest(ctx, r, in.CustomRoleArn)
	} else {
		creds, e = api.vendLogin(ctx, r, in.CustomRoleArn)
	}
	if e != nil {
		return nil, e
	}
	return getCredentialsOutput{IdentityID: r.id, Credentials: cognitoCredentials{
		AccessKeyID: creds.AccessKeyID, SecretKey: creds.SecretAccessKey, SessionToken: creds.SessionToken,
		Expiration: creds.Expiration.Unix(),
	}}, nil
}

func (api *cognitoAPI) vendLogin(ctx context.Context, r *resolvedIdentity, customRole string) (*exchange.Credentials, *core.Error) {
	p := &core.Principal{Pool: r.pool, Provider: r.login.provider, Ident: r.login.ident, KnownID: r.id}
	d := p.Entitlements()
	var g rules.Grant
	if customRole == "" && len(d.Grants) > 1 {
		g = d.Grants[0] // ambiguous: the pool's order decides, as Cognito's rules do
	} else {
		var e *core.Error
		if g, e = core.PickGrant(p, d, customRole); e != nil {
			api.s.core.AuditRefusal(ctx, p, customRole, e) // admin (issue 6)
			if e.Code == core.CodeRoleNotEntitled {
				return nil, cogError(cogNotAuthorized, "The rules of this identity pool do not give this identity the role named in CustomRoleArn.", e)
			}
			return nil, cogError(cogNotAuthorized, "No rule of this identity pool gives this identity an IAM role.", e)
		}
	}
	creds, _, e := api.s.core.Vend(ctx, p, g, 0)
	if e != nil {
		return nil, cognitoVendError(e)
	}
	return creds, nil
}

// vendGuest assumes the pool's unauthenticated role with a token whose
// audience is the pool's guest audience and amr ["unauthenticated"].
func (api *cognitoAPI) vendGuest(ctx context.Context, r *resolvedIdentity, customRole string) (*exchange.Credentials, *core.Error) {
	pool := r.pool
	role := pool.Cfg.UnauthenticatedRole
	if customRole != "" && customRole != role {
		e := cogError(cogNotAuthorized, "The rules of this identity pool do not give this identity the role named in CustomRoleArn.", nil)
		api.auditGuest(ctx, r, customRole, e)
		return nil, e
	}
	req := exchange.Request{
		PoolID:      pool.Cfg.ID,
		Audience:    pool.Cfg.GuestAudience(),
		IssuerURL:   pool.IssuerURL,
		IdentityID:  r.id,
		AMR:         []string{"unauthenticated"},
		RoleARN:     role,
		SessionName: rules.SessionName(r.id),
		Duration:    time.Duration(pool.Cfg.DurationSeconds) * time.Second,
	}
	log := core.LogFrom(ctx, api.s.log)
	creds, err := pool.Mode.Vend(ctx, req)
	api.s.metrics.countVend(ctx, err == nil)
	if err != nil {
		e := core.FromSTS(err)
		var se *exchange.STSError
		if !errors.As(err, &se) {
			e = core.AsVendError(err)
		}
		log.Warn("vend refused", "identity_id", r.id, "pool", req.PoolID, "guest", true, "role", role, "code", e.Code, "cause", err.Error())
		api.auditGuest(ctx, r, role, e)
		return nil, cognitoVendError(e)
	}
	api.auditGuest(ctx, r, role, nil)
	log.Info("credentials vended", "identity_id", r.id, "pool", req.PoolID, "guest", true, "role", role,
		"expires", creds.Expiration.UTC().Format(time.RFC3339))
	return creds, nil
}

// cognitoVendError maps a vend refusal to the service model's errors: an
// STS refusal of the role is the pool's configuration (its trust policy,
// its session policy), an STS outage is an external service.
func cognitoVendError(e *core.Error) *core.Error {
	var se *exchange.STSError
	if errors.As(e, &se) {
		switch {
		case se.Code == exchange.CodeThrottling:
			return cogError(cogTooManyRequests, msgRateExceeded, e)
		case se.Retryable || se.Status >= 500:
			return cogError(cogExternalService, "AWS STS could not be reached or could not complete the request. Try again in a moment.", e)
		default:
			return cogError(cogInvalidPoolConfig, msgInvalidPoolConfig, e)
		}
	}
	switch e.Code {
	case core.CodeInvalidRequest, "tag_limit":
		return cogError(cogInvalidPoolConfig, msgInvalidPoolConfig, e)
	default:
		return cogError(cogInternalError, "An internal error occurred.", e)
	}
}

// getOpenIDToken is GetOpenIdToken (Cognito's basic flow): a gateway token
// of 10 minutes for the identity, with the pool's audience (the guest
// audience for guests), for the app's own AssumeRoleWithWebIdentity. Only
// pools with allow_classic_flow answer it, since the rules do not apply.
func (api *cognitoAPI) getOpenIDToken(c *gin.Context, body []byte) (any, *core.Error) {
	in, e := parseGetOpenIDToken(body)
	if e != nil {
		return nil, e
	}
	ctx := c.Request.Context()
	r, e := api.resolveIdentity(ctx, in.IdentityID, in.Logins)
	if e != nil {
		return nil, e
	}
	pool := r.pool
	if !pool.Cfg.AllowClassicFlow {
		return nil, cogError(cogInvalidParameter, msgClassicFlowDisabled, nil)
	}
	t := issuer.Token{Issuer: pool.IssuerURL, Subject: r.id, TTL: openIDTokenTTL}
	if r.login == nil {
		t.Audience, t.AMR = pool.Cfg.GuestAudience(), []string{"unauthenticated"}
	} else {
		t.Audience, t.AMR = pool.Cfg.Audience(), []string{"authenticated", r.login.provider.Cfg.ID}
		tags, transitive, err := pool.Mapping.PrincipalTags(r.login.ident.Claims, rules.Grant{})
		if err != nil {
			return nil, cogError(cogInvalidParameter, "Your claims cannot be turned into AWS session tags: "+core.PublicTagReason(err)+".", err)
		}
		t.Tags, t.TransitiveTagKeys = tags, transitive
	}
	token, err := api.s.issuer.Mint(ctx, t)
	if err != nil {
		return nil, cogError(cogInternalError, "An internal error occurred.", err)
	}
	core.LogFrom(ctx, api.s.log).Info("open id token issued", "identity_id", r.id, "pool", pool.Cfg.ID, "guest", r.login == nil)
	api.auditOpenIDToken(ctx, r)
	return getOpenIDTokenOutput{IdentityID: r.id, Token: token}, nil
}
