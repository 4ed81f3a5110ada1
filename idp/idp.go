// Package idp turns a sign-in at an upstream identity provider into a
// verified set of claims. This package is the contract callers use; each
// provider type lives in a subpackage (idp/oidc, idp/saml, idp/static) and
// implements Provider plus whichever capability interfaces fit it.
package idp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Identity is what a provider vouches for after verification.
type Identity struct {
	Provider string         // provider id from the config
	Subject  string         // stable subject (OIDC sub, SAML NameID, static username)
	Claims   map[string]any // verified claims; nested maps and lists allowed
	// RawToken is the upstream credential as received (the OIDC ID token),
	// kept only for exchange modes that forward it. Never log it.
	RawToken string
}

// Provider is implemented by every upstream provider type.
type Provider interface {
	ID() string
	Type() string        // "oidc", "static", ...
	DisplayName() string // shown on the sign-in page
}

// Flow carries the per-sign-in secrets bound to one browser flow.
type Flow struct {
	State        string
	Nonce        string
	PKCEVerifier string // RFC 7636 code_verifier; the challenge is S256 of it
	RedirectURL  string // exact callback URL registered at the IdP
}

// RedirectLogin is implemented by providers whose sign-in happens at the
// upstream (OIDC authorization code + PKCE).
type RedirectLogin interface {
	// AuthCodeURL is where the browser is sent to sign in.
	AuthCodeURL(f Flow) string
	// Exchange redeems the code with the flow's PKCE verifier and verifies
	// the ID token, including the nonce bound to the flow.
	Exchange(ctx context.Context, code string, f Flow) (*Identity, error)
}

// ResponseIssuerAdvertiser is implemented by redirect providers that can
// tell whether their IdP announces RFC 9207's
// authorization_response_iss_parameter_supported: then an authorization
// response without iss is refused, since an attacker who mixes up IdPs
// would simply leave it out.
type ResponseIssuerAdvertiser interface {
	AdvertisesResponseIssuer() bool
}

// PasswordLogin is implemented by providers that check a username and
// password themselves (the static demo provider).
type PasswordLogin interface {
	Authenticate(ctx context.Context, username, password string) (*Identity, error)
}

// TokenVerifier is implemented by providers that can verify a bearer token
// presented by an app (an upstream OIDC ID token).
type TokenVerifier interface {
	VerifyToken(ctx context.Context, raw string) (*Identity, error)
}

// AssertionLogin is implemented by providers whose sign-in comes back as a
// posted assertion (SAML 2.0: HTTP-Redirect request, HTTP-POST response).
type AssertionLogin interface {
	// AuthnRequestURL builds the HTTP-Redirect binding URL with RelayState
	// f.State. requestID must be stored in the flow and passed back to
	// ConsumeResponse.
	AuthnRequestURL(f Flow) (redirectURL, requestID string, err error)
	// ConsumeResponse verifies a base64 SAMLResponse (HTTP-POST binding).
	// Empty possibleRequestIDs means unsolicited (IdP-initiated), which is
	// refused unless the provider allows it. The Identity's RawToken is
	// the response exactly as posted.
	ConsumeResponse(ctx context.Context, samlResponse string, possibleRequestIDs []string) (*Identity, error)
	// SPMetadata is fedgate's SP metadata XML for this provider.
	SPMetadata() ([]byte, error)
}

// AssertionVerifier is implemented by providers that can check a posted
// assertion without consuming it, for the admin's simulate.
type AssertionVerifier interface {
	// VerifyResponse runs every check of ConsumeResponse except the replay
	// cache, and returns the identity the response vouches for. Nothing is
	// recorded, so a response that was simulated still works once at the
	// ACS, and one already used still simulates.
	VerifyResponse(ctx context.Context, samlResponse string) (*Identity, error)
}

// AssertionRef names a verified assertion for whoever keeps its replay
// record: its ID, its issuer, and the moment after which no check of this
// provider would accept it any more.
type AssertionRef struct {
	ID     string
	Issuer string
	Until  time.Time
}

// ReusableAssertionLogin is implemented by providers whose unsolicited
// responses an app may present more than once for one use, as the AWS
// SDKs send the same Cognito Logins to GetId and then to
// GetCredentialsForIdentity. The provider records nothing: the caller
// binds the returned AssertionRef to what the response was first used for
// and refuses any other use, as the Cognito API does.
type ReusableAssertionLogin interface {
	// VerifyUnsolicited runs every check of ConsumeResponse with no
	// pending request (so the provider must allow IdP-initiated
	// responses, and a response answering an AuthnRequest is refused),
	// except the replay cache.
	VerifyUnsolicited(ctx context.Context, samlResponse string) (*Identity, AssertionRef, error)
}

// MetadataStatus is the state of IdP metadata fetched by URL.
type MetadataStatus struct {
	// ByURL is false for inline metadata, which is never refreshed.
	ByURL bool
	// Loaded says a good copy is in use.
	Loaded bool
	// FetchedAt is when the copy in use was fetched.
	FetchedAt time.Time
	// Failures counts fetches failed since the last good one; LastError is
	// the last one's error (it names the URL and the cause, never the
	// document).
	Failures  int
	LastError error
}

// MetadataRefresher is implemented by providers whose configuration
// (SAML IdP metadata) is fetched and must be refreshed on a schedule even
// when nobody signs in.
type MetadataRefresher interface {
	// RefreshMetadata fetches the metadata if it is due (the provider's
	// refresh interval, with a floor between failed attempts), bounded by
	// ctx, and reports the state after the attempt. A failed refresh keeps
	// the last good copy in use.
	RefreshMetadata(ctx context.Context) MetadataStatus
	// MetadataStatus reports the state without fetching.
	MetadataStatus() MetadataStatus
}

// Sentinel errors. Providers wrap them with the private cause
// (fmt.Errorf("%w: ...", ErrX)); callers map them to public messages.
var (
	ErrInvalidToken    = errors.New("invalid token")           // malformed, bad signature, wrong alg
	ErrExpiredToken    = errors.New("token expired")           // exp in the past (beyond skew)
	ErrWrongAudience   = errors.New("token audience mismatch") // aud / azp not this client
	ErrWrongIssuer     = errors.New("token issuer mismatch")
	ErrNonceMismatch   = errors.New("nonce mismatch")
	ErrBadCredentials  = errors.New("invalid username or password")
	ErrUpstream        = errors.New("upstream identity provider error") // network, 5xx, bad discovery
	ErrExchangeFailed  = errors.New("authorization code exchange failed")
	ErrMissingSubject  = errors.New("token has no subject")
	ErrUnsupportedFlow = errors.New("provider does not support this sign-in flow")
	ErrInvalidConfig   = errors.New("invalid identity provider configuration")
	// SAML (AssertionLogin) refusals; they are wrapped like the others.
	ErrReplay         = errors.New("assertion was already used")              // replay cache hit
	ErrWrongRecipient = errors.New("response addressed to another recipient") // Destination / Recipient
	ErrUnsolicited    = errors.New("unsolicited response")                    // IdP-initiated while not allowed
	ErrTooLarge       = errors.New("response exceeds the size limit")
)

// Demo is implemented by providers unfit for production (the static demo
// provider): pages that offer them say so.
type Demo interface {
	IsDemo() bool
}

// IsDemo tells whether p says it is a demo provider.
func IsDemo(p Provider) bool {
	d, ok := p.(Demo)
	return ok && d.IsDemo()
}

// CheckSubject refuses a subject no store or log keeps faithfully:
// invalid UTF-8 or a control character (NUL among them). The error wraps
// ErrInvalidToken: such a subject comes from a token or assertion, and a
// client that sends one gets a refusal, not a server error.
func CheckSubject(sub string) error {
	if !utf8.ValidString(sub) {
		return fmt.Errorf("%w: the subject is not valid UTF-8", ErrInvalidToken)
	}
	if strings.ContainsFunc(sub, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%w: the subject holds a control character", ErrInvalidToken)
	}
	return nil
}
