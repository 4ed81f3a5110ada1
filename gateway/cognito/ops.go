package cognito

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/exchange"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
	"fedgate/gateway/wire"
	"fedgate/idp"
)

// loginMethod is how one of a pool's providers takes part in Logins: the
// key its logins come under and how a login value is verified.
type loginMethod struct {
	key string
	// verify checks a login value; for a SAML response it also names the
	// assertion, which the request then binds to its identity
	// (bindAssertions). OIDC logins return a nil ref.
	verify func(ctx context.Context, raw string) (*idp.Identity, *idp.AssertionRef, error)
	// checkIssuer: the value is a JWT whose iss must match the key.
	checkIssuer bool
}

// loginMethodOf is the provider's Logins method in the pool, if it has
// one: OIDC providers by issuer, SAML providers by the pool's IAM SAML
// provider ARN (samlLoginMethod).
func loginMethodOf(c *core.Core, pool *core.Pool, p *core.Provider) (loginMethod, bool) {
	if _, ok := p.Provider.(idp.TokenVerifier); ok && p.Cfg.Type == config.ProviderOIDC {
		key := issuerLoginKey(p.Cfg.Issuer())
		verify := func(ctx context.Context, raw string) (*idp.Identity, *idp.AssertionRef, error) {
			ident, err := c.VerifyToken(ctx, p, raw)
			return ident, nil, err
		}
		return loginMethod{key: key, verify: verify, checkIssuer: true}, key != ""
	}
	return samlLoginMethod(pool, p)
}

// poolLoginKey is the provider's Logins key in the pool, for describing a
// pool; whether it is an OIDC issuer's key is in checkIssuer.
func poolLoginKey(pool *core.Pool, p *core.Provider) (key string, checkIssuer, ok bool) {
	if _, isVerifier := p.Provider.(idp.TokenVerifier); isVerifier && p.Cfg.Type == config.ProviderOIDC {
		key := issuerLoginKey(p.Cfg.Issuer())
		return key, true, key != ""
	}
	m, ok := samlLoginMethod(pool, p)
	return m.key, false, ok
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
func (api *API) verifyLogins(ctx context.Context, pool *core.Pool, logins map[string]string) ([]verifiedLogin, *core.Error) {
	keys := make([]string, 0, len(logins))
	for k := range logins {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]verifiedLogin, 0, len(keys))
	for _, key := range keys {
		if key == DeveloperLoginKey && pool.Cfg.DeveloperProviderName != "" {
			l, e := api.developerLogin(ctx, pool, logins[key])
			if e != nil {
				return nil, e
			}
			out = append(out, l)
			continue
		}
		var prov *core.Provider
		var m loginMethod
		for _, p := range pool.Providers {
			if pm, ok := loginMethodOf(api.core, pool, p); ok && pm.key == key {
				prov, m = p, pm
				break
			}
		}
		if prov == nil {
			return nil, apiError(ErrNotAuthorized, msgUnsupportedProvider, nil)
		}
		core.NoteAudit(ctx, core.AuditNote{Provider: prov.Cfg.ID})
		token := logins[key]
		// The token's own claim is only a hint here (verification checks
		// it again), but it gives the precise refusal AWS gives.
		if iss := core.UnverifiedIssuer(token); m.checkIssuer && iss != "" && issuerLoginKey(iss) != key {
			return nil, apiError(ErrNotAuthorized, "Invalid login token. Issuer doesn't match providerName", nil)
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
	if e := core.FromRefusedUpstream(err); e != nil {
		return apiError(ErrExternalService, e.Message, err)
	}
	switch {
	case errors.Is(err, idp.ErrExpiredToken):
		return apiError(ErrNotAuthorized, "Invalid login token. Token expired.", err)
	case errors.Is(err, idp.ErrWrongAudience):
		return apiError(ErrNotAuthorized, "Invalid login token. Incorrect token audience.", err)
	case errors.Is(err, idp.ErrWrongIssuer):
		return apiError(ErrNotAuthorized, "Invalid login token. Issuer doesn't match providerName", err)
	case errors.Is(err, idp.ErrUpstream):
		return apiError(ErrExternalService, "The identity provider could not be reached. Try again in a moment.", err)
	default:
		return apiError(ErrNotAuthorized, "Invalid login token. Not a valid OpenId Connect identity token.", err)
	}
}

func forbidden(identityID string) *core.Error {
	return apiError(ErrNotAuthorized, "Access to Identity '"+identityID+"' is forbidden.", nil)
}

// pool finds a pool by its exact id (names are not identity pool ids).
func (api *API) pool(id string) (*core.Pool, *core.Error) {
	if p := api.core.Snapshot().Pools[id]; p != nil && p.Cfg.ID == id {
		return p, nil
	}
	return nil, apiError(ErrResourceNotFound, "IdentityPool '"+id+"' not found.", nil)
}

func storeError(err error) *core.Error {
	if errors.Is(err, idp.ErrInvalidToken) {
		return apiError(ErrNotAuthorized, "Invalid login token.", err)
	}
	if errors.Is(err, store.ErrConflict) {
		return apiError(ErrResourceConflict, "The identity could not be created; try again.", err)
	}
	return apiError(ErrInternalError, "An internal error occurred.", err)
}

// getID is GetId: the identity of the first login (in the pool's provider
// order), created on first use; or, without logins, a new guest identity.
func (api *API) getID(c *gin.Context, body []byte) (any, *core.Error) {
	in, e := parseGetID(body)
	if e != nil {
		return nil, e
	}
	pool, e := api.pool(in.IdentityPoolID)
	if e != nil {
		return nil, e
	}
	ctx := c.Request.Context()
	core.NoteAudit(ctx, core.AuditNote{Pool: pool.Cfg.ID})
	if len(in.Logins) == 0 {
		if !pool.Cfg.AllowGuests {
			return nil, apiError(ErrNotAuthorized, msgUnauthNotSupported, nil)
		}
		if ok, wait := api.guestsByAddress.Take(httpkit.SourceKey(c.ClientIP())); !ok {
			c.Header("Retry-After", httpkit.RetryAfter(wait))
			return nil, apiError(ErrTooManyRequests, msgRateExceeded, errors.New("source address over its budget of guest identities"))
		}
		id, err := api.core.NewGuestIdentity(ctx, pool)
		if err != nil {
			return nil, storeError(err)
		}
		return wire.GetIDOutput{IdentityID: id}, nil
	}
	verified, e := api.verifyLogins(ctx, pool, in.Logins)
	if e != nil {
		return nil, e
	}
	// A SAML assertion used elsewhere is refused before an identity is made.
	if e := api.assertionsFree(ctx, pool, verified); e != nil {
		return nil, e
	}
	id, e := api.identityOfLogins(ctx, pool, verified)
	if e != nil {
		return nil, e
	}
	return wire.GetIDOutput{IdentityID: id}, nil
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
func (api *API) resolveIdentity(ctx context.Context, id string, logins map[string]string) (*resolvedIdentity, *core.Error) {
	r, e := api.ownedIdentity(ctx, id, logins)
	if e != nil {
		return nil, e
	}
	// Charged only once the caller has proved the identity is theirs: a
	// stranger who knows an identity id (it is the sub of every token
	// fedgate mints) must not be able to spend its owner's budget.
	if !api.byIdentity.Allow(id) {
		return nil, apiError(ErrTooManyRequests, msgRateExceeded, errors.New("identity over its rate limit"))
	}
	return r, nil
}

// ownedIdentity is resolveIdentity before the per-identity rate limit.
func (api *API) ownedIdentity(ctx context.Context, id string, logins map[string]string) (*resolvedIdentity, *core.Error) {
	rec, err := api.core.LookupIdentity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apiError(ErrResourceNotFound, "Identity '"+id+"' not found.", nil)
	}
	if err != nil {
		return nil, storeError(err)
	}
	core.NoteAudit(ctx, core.AuditNote{Pool: rec.PoolID, IdentityID: id})
	pool, e := api.pool(rec.PoolID)
	if e != nil {
		return nil, e
	}
	if rec.Provider == core.GuestProvider && len(logins) == 0 {
		if !pool.Cfg.AllowGuests {
			return nil, apiError(ErrNotAuthorized, msgUnauthNotSupported, nil)
		}
		return &resolvedIdentity{id: id, pool: pool}, nil
	}
	if len(logins) == 0 {
		return nil, apiError(ErrNotAuthorized, msgLoginsDontMatch, nil)
	}
	verified, e := api.verifyLogins(ctx, pool, logins)
	if e != nil {
		return nil, e
	}
	if rec.Provider == core.GuestProvider {
		return api.upgradeGuest(ctx, pool, id, verified)
	}
	known, err := api.core.LoginsOf(ctx, id)
	if err != nil {
		return nil, storeError(err)
	}
	for i := range verified {
		l := &verified[i]
		if !slices.Contains(known, loginKeyOf(pool, l)) {
			continue
		}
		// The identity's own login proves it; the others join it, once
		// their assertions are bound to it.
		if e := api.bindAssertions(ctx, pool, id, verified); e != nil {
			return nil, e
		}
		if len(verified) > 1 {
			if err := api.linkInto(ctx, id, principals(pool, verified)); err != nil {
				return nil, linkError(err)
			}
		}
		return &resolvedIdentity{id: id, pool: pool, login: l}, nil
	}
	return nil, forbidden(id)
}

// getCredentialsForIdentity is GetCredentialsForIdentity: the rules pick
// the role (the first grant when several apply and no CustomRoleArn is
// given; CustomRoleArn only when the rules grant it), then the pool's
// exchange mode vends.
func (api *API) getCredentialsForIdentity(c *gin.Context, body []byte) (any, *core.Error) {
	ctx := c.Request.Context()
	in, e := parseGetCredentials(body)
	if e != nil {
		return nil, e
	}
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
	return wire.GetCredentialsForIdentityOutput{IdentityID: r.id, Credentials: wire.CognitoCredentials{
		AccessKeyID: creds.AccessKeyID, SecretKey: creds.SecretAccessKey, SessionToken: creds.SessionToken,
		Expiration: creds.Expiration.Unix(),
	}}, nil
}

func (api *API) vendLogin(ctx context.Context, r *resolvedIdentity, customRole string) (*exchange.Credentials, *core.Error) {
	p := &core.Principal{Pool: r.pool, Provider: r.login.provider, Ident: r.login.ident, KnownID: r.id}
	creds, _, e := api.core.GrantFirst(ctx, p, customRole, 0)
	switch {
	case e == nil:
	case e.Code == core.CodeRoleNotEntitled:
		return nil, apiError(ErrNotAuthorized, "The rules of this identity pool do not give this identity the role named in CustomRoleArn.", e)
	case e.Code == core.CodeNoMatchingRule:
		return nil, apiError(ErrNotAuthorized, "No rule of this identity pool gives this identity an IAM role.", e)
	default:
		return nil, vendError(e)
	}
	return creds, nil
}

// vendGuest vends the pool's unauthenticated role, the only role a guest
// may name in CustomRoleArn.
func (api *API) vendGuest(ctx context.Context, r *resolvedIdentity, customRole string) (*exchange.Credentials, *core.Error) {
	if customRole != "" && customRole != r.pool.Cfg.UnauthenticatedRole {
		e := apiError(ErrNotAuthorized, "The rules of this identity pool do not give this identity the role named in CustomRoleArn.", nil)
		api.core.AuditGuestRefusal(ctx, r.pool, r.id, customRole, e)
		return nil, e
	}
	creds, e := api.core.VendGuest(ctx, r.pool, r.id)
	if e != nil {
		return nil, vendError(e)
	}
	return creds, nil
}

// vendError maps a vend refusal to the service model's errors: an
// STS refusal of the role is the pool's configuration (its trust policy,
// its session policy), an STS outage is an external service.
func vendError(e *core.Error) *core.Error {
	var se *exchange.STSError
	if errors.As(e, &se) {
		switch {
		case se.Outage:
			// TooManyRequestsException is what the AWS SDKs retry with
			// backoff. It is audited: unlike fedgate's own limiter, STS
			// being down is worth a trace.
			out := apiError(ErrTooManyRequests, msgSTSUnavailable, e)
			out.Throttled, out.RetryAfter = false, se.RetryAfter
			return out
		case se.Retryable || se.Status >= 500:
			return apiError(ErrExternalService, "AWS STS could not be reached or could not complete the request. Try again in a moment.", e)
		default:
			return apiError(ErrInvalidPoolConfig, msgInvalidPoolConfig, e)
		}
	}
	switch e.Code {
	case core.CodeInvalidRequest, "tag_limit":
		return apiError(ErrInvalidPoolConfig, msgInvalidPoolConfig, e)
	default:
		return apiError(ErrInternalError, "An internal error occurred.", e)
	}
}

// getOpenIDToken is GetOpenIdToken (Cognito's basic flow): a gateway token
// of 10 minutes for the identity, with the pool's audience (the guest
// audience for guests), for the app's own AssumeRoleWithWebIdentity. Only
// pools with allow_classic_flow answer it, since the rules do not apply.
func (api *API) getOpenIDToken(c *gin.Context, body []byte) (any, *core.Error) {
	ctx := c.Request.Context()
	in, e := parseGetOpenIDToken(body)
	if e != nil {
		return nil, e
	}
	r, e := api.resolveIdentity(ctx, in.IdentityID, in.Logins)
	if e != nil {
		return nil, e
	}
	pool := r.pool
	if !pool.Cfg.AllowClassicFlow {
		return nil, apiError(ErrInvalidParameter, msgClassicFlowDisabled, nil)
	}
	var login *core.Principal
	if r.login != nil {
		login = &core.Principal{Pool: pool, Provider: r.login.provider, Ident: r.login.ident, KnownID: r.id}
	}
	token, e := api.core.OpenIDToken(ctx, pool, r.id, login)
	switch {
	case e == nil:
	case e.Code == "tag_limit":
		return nil, apiError(ErrInvalidParameter, "Your claims cannot be turned into AWS session tags: "+core.PublicTagReason(e.Cause)+".", e.Cause)
	default:
		return nil, apiError(ErrInternalError, "An internal error occurred.", e.Cause)
	}
	return wire.GetOpenIDTokenOutput{IdentityID: r.id, Token: token}, nil
}
