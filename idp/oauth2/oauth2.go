// Package oauth2 is the provider type of OAuth 2.0 authorization servers
// that are not OpenID Connect (GitHub- or Facebook-style sign-in): the
// authorization code flow with PKCE S256 and state, then the userinfo
// endpoint, called with the access token, supplies the claims.
//
// Nothing here is signed, so the claims are only as good as the TLS
// connection to the userinfo endpoint, and an access token is opaque:
// fedgate cannot verify one presented by an app. Providers of this type
// therefore implement idp.RedirectLogin but not idp.TokenVerifier, and are
// used for browser and CLI sign-in only.
package oauth2

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"

	xoauth2 "golang.org/x/oauth2"

	"fedgate/exchange/rules"
	"fedgate/idp"
	"fedgate/idp/internal/httpcap"
)

// maxUpstreamBody caps the token and userinfo answers: real ones are a
// few KiB, and the claims end up in sealed sessions.
const maxUpstreamBody = 256 << 10

// Config configures one OAuth 2.0 provider.
type Config struct {
	ID, DisplayName                         string
	AuthorizationURL, TokenURL, UserInfoURL string
	ClientID, ClientSecret, TokenAuthMethod string
	Scopes                                  []string
	SubjectClaim                            string            // default "sub"
	Claims                                  map[string]string // claim name -> path; empty: every top-level field
}

// Provider is an OAuth 2.0 authorization server with a userinfo endpoint.
type Provider struct {
	id, displayName string
	userInfoURL     string
	oauth           xoauth2.Config
	client          *http.Client
	mapping         claimMapping
}

var (
	_ idp.Provider      = (*Provider)(nil)
	_ idp.RedirectLogin = (*Provider)(nil)
)

// New checks cfg and builds the provider. client is used for every call
// to the authorization server, with its answers capped; give it a timeout.
func New(cfg Config, client *http.Client) (*Provider, error) {
	var errs []error
	if cfg.ID == "" {
		errs = append(errs, errors.New("id is required"))
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("client id is required"))
	}
	for _, ep := range []struct{ name, url string }{{"authorization", cfg.AuthorizationURL}, {"token", cfg.TokenURL}, {"userinfo", cfg.UserInfoURL}} {
		if u, err := url.Parse(ep.url); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, fmt.Errorf("the %s endpoint must be an http(s) URL", ep.name))
		}
	}
	style, err := authStyle(cfg.TokenAuthMethod, cfg.ClientSecret)
	if err != nil {
		errs = append(errs, err)
	}
	mapping, err := newClaimMapping(cfg.SubjectClaim, cfg.Claims)
	if err != nil {
		errs = append(errs, err)
	}
	if client == nil {
		errs = append(errs, errors.New("an HTTP client is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: oauth2 provider %q: %w", idp.ErrInvalidConfig, cfg.ID, err)
	}
	return &Provider{
		id: cfg.ID, displayName: cfg.DisplayName, userInfoURL: cfg.UserInfoURL,
		oauth: xoauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     xoauth2.Endpoint{AuthURL: cfg.AuthorizationURL, TokenURL: cfg.TokenURL, AuthStyle: style},
			Scopes:       slices.Clone(cfg.Scopes),
		},
		client:  httpcap.Capped(client, maxUpstreamBody),
		mapping: mapping,
	}, nil
}

// authStyle is the client authentication at the token endpoint, always
// explicit: x/oauth2's auto-detection would first send a request bound to
// fail, with the code in it.
func authStyle(method, secret string) (xoauth2.AuthStyle, error) {
	switch method {
	case "":
		if secret == "" {
			return xoauth2.AuthStyleInParams, nil // public client: client_id in the body, PKCE proves possession
		}
		return xoauth2.AuthStyleInHeader, nil
	case authBasic:
		return xoauth2.AuthStyleInHeader, nil
	case authPost, authNone:
		return xoauth2.AuthStyleInParams, nil
	}
	return 0, fmt.Errorf("unknown token endpoint authentication %q", method)
}

// ID returns the provider id from the config.
func (p *Provider) ID() string { return p.id }

// Type returns "oauth2".
func (p *Provider) Type() string { return "oauth2" }

// DisplayName returns the name shown on the sign-in page.
func (p *Provider) DisplayName() string { return p.displayName }

// AuthCodeURL is where the browser is sent to sign in, carrying the flow's
// state and S256 PKCE challenge. OAuth 2.0 has no nonce; the PKCE verifier
// binds the code to the flow instead. It returns "" for a flow without a
// state or verifier.
func (p *Provider) AuthCodeURL(f idp.Flow) string {
	if f.State == "" || f.PKCEVerifier == "" {
		return ""
	}
	cfg := p.oauth
	cfg.RedirectURL = f.RedirectURL
	return cfg.AuthCodeURL(f.State, xoauth2.S256ChallengeOption(f.PKCEVerifier))
}

// Exchange redeems code with the flow's PKCE verifier, then reads the
// claims from the userinfo endpoint with the access token. The access
// token is not kept: no exchange mode could use it.
func (p *Provider) Exchange(ctx context.Context, code string, f idp.Flow) (*idp.Identity, error) {
	if code == "" {
		return nil, fmt.Errorf("%w: empty authorization code", idp.ErrExchangeFailed)
	}
	if f.PKCEVerifier == "" {
		return nil, fmt.Errorf("%w: flow lacks a PKCE verifier", idp.ErrExchangeFailed)
	}
	cfg := p.oauth
	cfg.RedirectURL = f.RedirectURL
	// x/oauth2 takes its HTTP client from the context, else the default one.
	token, err := cfg.Exchange(context.WithValue(ctx, xoauth2.HTTPClient, p.client), code, xoauth2.VerifierOption(f.PKCEVerifier))
	if err != nil {
		return nil, exchangeError(err)
	}
	// Type() reads a missing token_type as Bearer, per common practice.
	if token.Type() != "Bearer" {
		return nil, fmt.Errorf("%w: token type %q is not Bearer", idp.ErrExchangeFailed, token.TokenType)
	}
	body, err := p.userInfo(ctx, token.AccessToken)
	if err != nil {
		return nil, err
	}
	subject, claims, err := p.mapping.identity(body)
	if err != nil {
		return nil, err
	}
	if err := idp.CheckSubject(subject); err != nil {
		return nil, err
	}
	return &idp.Identity{Provider: p.id, Subject: subject, Claims: claims}, nil
}

// exchangeError tells a refused code (an OAuth error answer, or one
// without an access token) from a server that could not be reached or
// failed (network, 5xx), which callers may retry.
func exchangeError(err error) error {
	var retrieve *xoauth2.RetrieveError
	var netErr net.Error
	switch {
	case errors.As(err, &retrieve) && (retrieve.Response == nil || retrieve.Response.StatusCode < 500):
		return fmt.Errorf("%w: %w", idp.ErrExchangeFailed, err)
	case errors.As(err, &retrieve), errors.As(err, &netErr), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w: %w", idp.ErrExchangeFailed, idp.ErrUpstream, err)
	}
	return fmt.Errorf("%w: %w", idp.ErrExchangeFailed, err)
}

// claimMapping turns a userinfo answer into a subject and claims.
type claimMapping struct {
	subject rules.ClaimPath
	claims  map[string]rules.ClaimPath // empty: every top-level field
}

func newClaimMapping(subject string, claims map[string]string) (claimMapping, error) {
	if subject == "" {
		subject = defaultSubjectClaim
	}
	var errs []error
	m := claimMapping{claims: make(map[string]rules.ClaimPath, len(claims))}
	var err error
	if m.subject, err = rules.ParseClaimPath(subject); err != nil {
		errs = append(errs, fmt.Errorf("subject claim: %w", err))
	}
	for _, name := range slices.Sorted(maps.Keys(claims)) {
		path := claims[name]
		if name == "" || name == "sub" {
			errs = append(errs, fmt.Errorf("claim name %q is not allowed", name))
			continue
		}
		cp, err := rules.ParseClaimPath(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("claim %s: %w", name, err))
			continue
		}
		m.claims[name] = cp
	}
	return m, errors.Join(errs...)
}
