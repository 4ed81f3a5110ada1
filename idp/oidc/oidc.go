// Package oidc is the upstream OpenID Connect provider type: authorization
// code + PKCE sign-in and verification of ID tokens presented by apps.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"fedgate/idp"
	"fedgate/idp/internal/httpcap"
)

const (
	// maxTokenBytes bounds bearer tokens before any parsing; AWS itself
	// accepts at most 20000 characters, real ID tokens are a few KiB.
	maxTokenBytes = 16 << 10
	// maxUpstreamBody caps every response body read from the IdP.
	maxUpstreamBody = 1 << 20
	// discoveryRetryInterval keeps a down IdP from being hammered by
	// every incoming request while still recovering quickly.
	discoveryRetryInterval = 5 * time.Second
	// jwksRefetchInterval is the floor between JWKS fetches triggered by
	// unknown key ids, so forged kids cannot turn us into a request amplifier.
	jwksRefetchInterval = 10 * time.Second
	defaultClockSkew    = time.Minute
)

// Config configures one upstream OpenID Connect provider.
type Config struct {
	ID, DisplayName, Issuer, ClientID, ClientSecret string
	Scopes                                          []string // default openid, profile, email
	// AllowedAlgorithms is the explicit allow-list of ID-token signing
	// algorithms; default ["RS256","ES256"]. "none" and HS* are refused.
	AllowedAlgorithms []string
	// UserInfo merges userinfo claims after a browser sign-in (ID-token
	// claims win on conflict; the userinfo sub must match).
	UserInfo bool
	// ExtraAudiences are further aud/azp values accepted on bearer tokens
	// presented to the API (the client ids of apps).
	ExtraAudiences []string
	// ClockSkew is tolerated on exp, nbf and iat, exactly: 0 is none.
	ClockSkew time.Duration
}

// isAsymmetricAlgorithm reports whether an operator may allow alg:
// symmetric (HS*) and "none" never verify upstream tokens.
func isAsymmetricAlgorithm(alg string) bool {
	switch alg {
	case gooidc.RS256, gooidc.RS384, gooidc.RS512,
		gooidc.ES256, gooidc.ES384, gooidc.ES512,
		gooidc.PS256, gooidc.PS384, gooidc.PS512,
		gooidc.EdDSA:
		return true
	}
	return false
}

// Provider is an upstream OpenID Connect provider. It implements
// idp.Provider, idp.RedirectLogin and idp.TokenVerifier. Discovery is lazy
// so that the gateway starts while an IdP is unreachable.
type Provider struct {
	cfg          Config
	client       *http.Client
	now          func() time.Time
	algorithms   []string
	apiAudiences []string

	mu          sync.Mutex
	state       *discovered
	lastAttempt time.Time
	lastErr     error
}

// discovered is what one successful discovery yields.
type discovered struct {
	provider  *gooidc.Provider
	keys      *jwksKeySet
	authStyle oauth2.AuthStyle
	// responseIssuer: the IdP sends iss with every authorization response
	// (RFC 9207).
	responseIssuer bool
}

var (
	_ idp.Provider      = (*Provider)(nil)
	_ idp.RedirectLogin = (*Provider)(nil)
	_ idp.TokenVerifier = (*Provider)(nil)

	_ idp.ResponseIssuerAdvertiser = (*Provider)(nil)
)

// New validates cfg and makes one discovery attempt bounded by ctx. A
// failed attempt is not an error: it is retried on first use and reported
// by Ready. client is used for every upstream call, with response bodies
// capped at 1 MiB; give it a timeout. now defaults to time.Now.
func New(ctx context.Context, cfg Config, client *http.Client, now func() time.Time) (*Provider, error) {
	if now == nil {
		now = time.Now
	}
	cfg, algs, err := normalizeConfig(cfg)
	if client == nil {
		err = errors.Join(err, errors.New("an HTTP client is required"))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: oidc provider %q: %w", idp.ErrInvalidConfig, cfg.ID, err)
	}
	p := &Provider{
		cfg:          cfg,
		client:       httpcap.Capped(client, maxUpstreamBody),
		now:          now,
		algorithms:   algs,
		apiAudiences: append([]string{cfg.ClientID}, cfg.ExtraAudiences...),
	}
	_, _ = p.discover(ctx) // failure is remembered and surfaced by Ready
	return p, nil
}

// normalizeConfig applies defaults and reports every problem at once.
func normalizeConfig(cfg Config) (Config, []string, error) {
	var errs []error
	if cfg.ID == "" {
		errs = append(errs, errors.New("id is required"))
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("client id is required"))
	}
	if err := checkIssuerURL(cfg.Issuer); err != nil {
		errs = append(errs, err)
	}
	if cfg.ClockSkew < 0 {
		errs = append(errs, errors.New("clock skew must not be negative"))
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{gooidc.ScopeOpenID, gooidc.ScopeProfile, gooidc.ScopeEmail}
	} else if !slices.Contains(cfg.Scopes, gooidc.ScopeOpenID) {
		cfg.Scopes = append([]string{gooidc.ScopeOpenID}, cfg.Scopes...)
	}
	algs := cfg.AllowedAlgorithms
	if len(algs) == 0 {
		algs = []string{gooidc.RS256, gooidc.ES256}
	}
	for _, alg := range algs {
		if !isAsymmetricAlgorithm(alg) {
			errs = append(errs, fmt.Errorf("signing algorithm %q is not allowed (asymmetric algorithms only)", alg))
		}
	}
	for _, aud := range cfg.ExtraAudiences {
		if aud == "" {
			errs = append(errs, errors.New("extra audiences must not be empty strings"))
		}
	}
	return cfg, slices.Clone(algs), errors.Join(errs...)
}

func checkIssuerURL(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || issuer == "" {
		return errors.New("issuer must be a URL")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("issuer %q must be an http(s) URL with a host and no query or fragment", issuer)
	}
	return nil
}

// ID returns the provider id from the config.
func (p *Provider) ID() string { return p.cfg.ID }

// Type returns "oidc".
func (p *Provider) Type() string { return "oidc" }

// DisplayName returns the name shown on the sign-in page.
func (p *Provider) DisplayName() string { return p.cfg.DisplayName }

// Issuer returns the configured issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// AdvertisesResponseIssuer reports whether the discovered IdP announces
// that its authorization responses carry iss (RFC 9207). A flow's
// callback comes after discovery, so this never fetches.
func (p *Provider) AdvertisesResponseIssuer() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state != nil && p.state.responseIssuer
}

// Ready triggers discovery if it has not succeeded yet and reports
// whether the provider can serve sign-ins (wrapping idp.ErrUpstream if not).
func (p *Provider) Ready(ctx context.Context) error {
	_, err := p.discover(ctx)
	return err
}

// discover returns the discovery result, attempting discovery at most once
// per discoveryRetryInterval until it succeeds.
func (p *Provider) discover(ctx context.Context) (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != nil {
		return p.state, nil
	}
	now := p.now()
	if since := now.Sub(p.lastAttempt); !p.lastAttempt.IsZero() && since >= 0 && since < discoveryRetryInterval {
		return nil, p.lastErr
	}
	p.lastAttempt = now
	state, err := p.fetchDiscovery(ctx)
	if err != nil {
		p.lastErr = fmt.Errorf("%w: discovery of %s: %w", idp.ErrUpstream, p.cfg.Issuer, err)
		return nil, p.lastErr
	}
	p.state, p.lastErr = state, nil
	return state, nil
}

func (p *Provider) fetchDiscovery(ctx context.Context) (*discovered, error) {
	provider, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.client), p.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	var meta struct {
		JWKSURL        string   `json:"jwks_uri"`
		AuthMethods    []string `json:"token_endpoint_auth_methods_supported"`
		ResponseIssuer bool     `json:"authorization_response_iss_parameter_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, err
	}
	endpoint := provider.Endpoint()
	if meta.JWKSURL == "" || endpoint.AuthURL == "" || endpoint.TokenURL == "" {
		return nil, errors.New("discovery document lacks jwks_uri, authorization_endpoint or token_endpoint")
	}
	return &discovered{
		provider:  provider,
		keys:      newJWKSKeySet(meta.JWKSURL, p.client, p.now, p.algorithms, jwksRefetchInterval),
		authStyle: p.authStyle(meta.AuthMethods),

		responseIssuer: meta.ResponseIssuer,
	}, nil
}

// authStyle picks the client authentication the IdP advertises instead of
// letting x/oauth2 probe by failing a request first.
func (p *Provider) authStyle(methods []string) oauth2.AuthStyle {
	if p.cfg.ClientSecret == "" {
		return oauth2.AuthStyleInParams // public client: client_id in the body, PKCE proves possession
	}
	// client_secret_basic is the spec default when the list is absent.
	if len(methods) == 0 || slices.Contains(methods, "client_secret_basic") {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}

func (p *Provider) oauth2Config(d *discovered, redirectURL string) *oauth2.Config {
	endpoint := d.provider.Endpoint()
	endpoint.AuthStyle = d.authStyle
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     endpoint,
		RedirectURL:  redirectURL,
		Scopes:       p.cfg.Scopes,
	}
}

// AuthCodeURL is where the browser is sent to sign in, carrying the flow's
// state, nonce and S256 PKCE challenge. It returns "" while the IdP cannot
// be discovered; call Ready first to get the reason.
func (p *Provider) AuthCodeURL(f idp.Flow) string {
	// The interface carries no context; the injected client's timeout and
	// the retry interval bound this call.
	d, err := p.discover(context.Background())
	if err != nil {
		return ""
	}
	return p.oauth2Config(d, f.RedirectURL).AuthCodeURL(f.State,
		gooidc.Nonce(f.Nonce),
		oauth2.S256ChallengeOption(f.PKCEVerifier),
	)
}

// Exchange redeems code with the flow's PKCE verifier, verifies the ID
// token (nonce included) and optionally merges userinfo claims.
func (p *Provider) Exchange(ctx context.Context, code string, f idp.Flow) (*idp.Identity, error) {
	if code == "" {
		return nil, fmt.Errorf("%w: empty authorization code", idp.ErrExchangeFailed)
	}
	if f.PKCEVerifier == "" || f.Nonce == "" {
		return nil, fmt.Errorf("%w: flow lacks a PKCE verifier or nonce", idp.ErrExchangeFailed)
	}
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	clientCtx := gooidc.ClientContext(ctx, p.client)
	token, err := p.oauth2Config(d, f.RedirectURL).Exchange(clientCtx, code, oauth2.VerifierOption(f.PKCEVerifier))
	if err != nil {
		return nil, exchangeError(err)
	}
	rawIDToken, _ := token.Extra("id_token").(string)
	if rawIDToken == "" {
		return nil, fmt.Errorf("%w: token response has no id_token", idp.ErrExchangeFailed)
	}
	verified, err := p.verify(ctx, d, rawIDToken, []string{p.cfg.ClientID}, &f.Nonce)
	if err != nil {
		return nil, err
	}
	if verified.token.AccessTokenHash != "" {
		if err := verified.token.VerifyAccessToken(token.AccessToken); err != nil {
			return nil, fmt.Errorf("%w: at_hash: %w", idp.ErrInvalidToken, err)
		}
	}
	if p.cfg.UserInfo {
		if err := mergeUserInfo(clientCtx, d.provider, token, verified.claims); err != nil {
			return nil, err
		}
	}
	return p.identity(verified, rawIDToken), nil
}

// exchangeError separates a rejected code (4xx) from an IdP that could
// not be reached or failed (network, 5xx), which callers may retry.
func exchangeError(err error) error {
	var retrieve *oauth2.RetrieveError
	if errors.As(err, &retrieve) && retrieve.Response != nil && retrieve.Response.StatusCode < 500 {
		return fmt.Errorf("%w: %w", idp.ErrExchangeFailed, err)
	}
	return fmt.Errorf("%w: %w: %w", idp.ErrExchangeFailed, idp.ErrUpstream, err)
}

// mergeUserInfo adds userinfo claims the ID token does not already carry.
func mergeUserInfo(ctx context.Context, provider *gooidc.Provider, token *oauth2.Token, claims map[string]any) error {
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err != nil {
		return fmt.Errorf("%w: userinfo: %w", idp.ErrUpstream, err)
	}
	if info.Subject != claims["sub"] {
		return fmt.Errorf("%w: userinfo sub differs from the ID token sub", idp.ErrInvalidToken)
	}
	var extra map[string]any
	if err := info.Claims(&extra); err != nil {
		return fmt.Errorf("%w: userinfo claims: %w", idp.ErrUpstream, err)
	}
	for name, value := range extra {
		if _, present := claims[name]; !present {
			claims[name] = value
		}
	}
	return nil
}

// VerifyToken verifies an upstream ID token presented by an app. Its aud
// must contain the client id or one of ExtraAudiences; no nonce applies.
func (p *Provider) VerifyToken(ctx context.Context, raw string) (*idp.Identity, error) {
	// Size first: an oversized token must not even trigger discovery.
	if err := checkTokenSize(raw); err != nil {
		return nil, err
	}
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	verified, err := p.verify(ctx, d, raw, p.apiAudiences, nil)
	if err != nil {
		return nil, err
	}
	return p.identity(verified, raw), nil
}

func (p *Provider) identity(v *verifiedToken, raw string) *idp.Identity {
	return &idp.Identity{Provider: p.cfg.ID, Subject: v.registered.Subject, Claims: v.claims, RawToken: raw}
}

// verifiedToken is an ID token that passed every check.
type verifiedToken struct {
	token      *gooidc.IDToken
	claims     map[string]any
	registered *idClaims
}

// verify checks an ID token. go-oidc checks the signature and the
// algorithm; every claim is checked here, from the one decoding of the
// payload that also yields the claims the rules see. nonce is nil when no
// browser flow is bound to the token.
func (p *Provider) verify(ctx context.Context, d *discovered, raw string, audiences []string, nonce *string) (*verifiedToken, error) {
	if err := checkTokenSize(raw); err != nil {
		return nil, err
	}
	// A fresh recorder per call keeps the payload's decoding and the key
	// set's typed error, which go-oidc flattens with %v.
	recorder := &recordingKeySet{inner: d.keys}
	verifier := gooidc.NewVerifier(p.cfg.Issuer, recorder, &gooidc.Config{
		SkipClientIDCheck:    true,
		SkipExpiryCheck:      true,
		SkipIssuerCheck:      true,
		SupportedSigningAlgs: p.algorithms,
	})
	token, err := verifier.Verify(ctx, raw)
	if err != nil {
		if recorder.err != nil {
			return nil, recorder.err
		}
		return nil, fmt.Errorf("%w: %w", idp.ErrInvalidToken, err)
	}
	reg, now, skew := recorder.registered, p.now(), p.cfg.ClockSkew
	checks := []error{
		checkNotAccessToken(raw),
		checkIssuer(reg.Issuer, p.cfg.Issuer),
		checkExpiry(reg.Expiry, now, skew),
		checkNotBefore(reg.NotBefore, now, skew),
		checkSubject(reg.Subject),
		checkIssuedAt(reg.IssuedAt, now, skew),
		checkAudience(reg, audiences),
	}
	if nonce != nil {
		checks = append(checks, checkNonce(reg.Nonce, *nonce))
	}
	for _, err := range checks {
		if err != nil {
			return nil, err
		}
	}
	return &verifiedToken{token: token, claims: recorder.claims, registered: reg}, nil
}

// recordingKeySet remembers the outcome of the single signature check that
// go-oidc performs per verification, and decodes the payload it verified:
// a payload with twin registered claims fails here, before go-oidc reads
// it.
type recordingKeySet struct {
	inner      gooidc.KeySet
	claims     map[string]any
	registered *idClaims
	err        error
}

func (r *recordingKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := r.inner.VerifySignature(ctx, jwt)
	if err == nil {
		r.claims, r.registered, err = decodeClaims(payload)
	}
	if err != nil {
		r.err = err
		return nil, err
	}
	return payload, nil
}
