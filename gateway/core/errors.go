package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"fedgate/exchange"
	"fedgate/exchange/rules"
	"fedgate/gateway/store"
	"fedgate/gateway/upstream"
	"fedgate/idp"
)

// Error is a refusal with a public part (status, stable code, message a
// person can act on) kept apart from the private cause that only the
// operator's log sees.
type Error struct {
	Status  int
	Code    string
	Message string
	Cause   error
	// Roles lists the caller's entitled roles when they must pick one.
	Roles []string
	// Throttled marks a rate-limit refusal. It is not audited: writing one
	// entry per refused request would let a flood through to the store
	// that the limiter keeps out.
	Throttled bool
	// RetryAfter, when set, tells the caller when to come back (the
	// Retry-After header): a dependency is briefly unavailable.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Cause == nil {
		return e.Code + ": " + e.Message
	}
	return e.Code + ": " + e.Message + ": " + e.Cause.Error()
}

func (e *Error) Unwrap() error { return e.Cause }

// NewError is a refusal with its public parts and its private cause.
func NewError(status int, code, message string, cause error) *Error {
	return &Error{Status: status, Code: code, Message: message, Cause: cause}
}

// StatusClientClosed is nginx's 499: the client went away before the answer.
const StatusClientClosed = 499

// ClientGone reports whether a failure of the request in ctx was caused
// by its client hanging up: the request is cancelled and the failure is a
// server error (a store or upstream call cut short) or carries the
// cancellation. A refusal decided before the hang-up (a bad token, a
// throttle) is not, so its audit entry keeps its reason.
func ClientGone(ctx context.Context, status int, cause error) bool {
	if ctx.Err() == nil || status == StatusClientClosed {
		return false
	}
	return status >= 500 || errors.Is(cause, context.Canceled)
}

// AsClientClosed is e, or the 499 that replaces it when ClientGone: a
// client that hangs up is no failure of the gateway, so it is logged at
// WARN, never as a 500 at ERROR. The original refusal stays the cause.
func AsClientClosed(ctx context.Context, e *Error) *Error {
	if !ClientGone(ctx, e.Status, e) {
		return e
	}
	return NewError(StatusClientClosed, CodeClientClosed, "The request was cancelled.", e)
}

// Stable error codes of the JSON API and the pages.
const (
	CodeInvalidRequest   = "invalid_request"
	CodeUnauthorized     = "unauthorized"
	CodeInvalidToken     = "invalid_token"
	CodeExpiredToken     = "expired_token"
	CodeUnknownPool      = "unknown_pool"
	CodeUnknownProvider  = "unknown_provider"
	CodeNoMatchingRule   = "no_matching_rule"
	CodeRoleNotEntitled  = "role_not_entitled"
	CodeRoleRequired     = "role_required"
	CodeFlowExpired      = "sign_in_expired"
	CodeUpstream         = "upstream_unavailable"
	CodeUpstreamRefused  = "upstream_address_refused"
	CodeTooLarge         = "request_too_large"
	CodeInternal         = "internal_error"
	CodeSessionExpired   = "session_expired"
	CodeCSRF             = "csrf_check_failed"
	CodeBadCredentials   = "invalid_credentials"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeClientClosed     = "client_closed_request"
	CodeStoreUnavailable = "store_unavailable"
)

// storeRetryAfter is the Retry-After of a store that cannot write: an
// operator has to make room, which takes longer than a blip.
const storeRetryAfter = 5 * time.Second

// storeUnreachableRetryAfter is the Retry-After of a store whose database
// cannot be reached: a restart or fail-over takes a few seconds.
const storeUnreachableRetryAfter = 2 * time.Second

// FromIdP maps a provider's verification failure to a public error; the
// message says what to do without echoing claims or configuration.
func FromIdP(err error) *Error {
	if e := FromRefusedUpstream(err); e != nil {
		return e
	}
	switch {
	case errors.Is(err, idp.ErrExpiredToken):
		return NewError(http.StatusUnauthorized, CodeExpiredToken, "The identity token has expired. Sign in again.", err)
	case errors.Is(err, idp.ErrBadCredentials):
		return NewError(http.StatusUnauthorized, CodeBadCredentials, "Wrong username or password.", err)
	case errors.Is(err, idp.ErrUpstream):
		return NewError(http.StatusBadGateway, CodeUpstream, "The identity provider could not be reached. Try again in a moment.", err)
	case errors.Is(err, idp.ErrExchangeFailed):
		return NewError(http.StatusBadRequest, CodeInvalidRequest, "The identity provider did not accept this sign-in. Start again.", err)
	case errors.Is(err, idp.ErrNonceMismatch):
		return NewError(http.StatusBadRequest, CodeInvalidToken, "The sign-in response does not belong to this sign-in. Start again.", err)
	default:
		return NewError(http.StatusUnauthorized, CodeInvalidToken, "The identity token is not valid for this gateway.", err)
	}
}

// FromRefusedUpstream is the refusal of a provider whose address the
// upstream client would not connect to, nil for any other error. The
// message names the address and the key that allows it: the operator has
// to act, and retrying does not help.
func FromRefusedUpstream(err error) *Error {
	re, ok := upstream.AsRefused(err)
	if !ok {
		return nil
	}
	return NewError(http.StatusBadGateway, CodeUpstreamRefused, "fedgate does not connect to this identity provider: "+re.Error()+".", err)
}

// FromSTS maps an STS refusal to a public error.
func FromSTS(err error) *Error {
	var se *exchange.STSError
	if errors.As(err, &se) {
		return &Error{Status: se.Status, Code: "sts_" + snakeCase(se.Code), Message: se.PublicMessage(), Cause: err, RetryAfter: se.RetryAfter}
	}
	return NewError(http.StatusBadGateway, "sts_error", "AWS STS refused or failed the request.", err)
}

// snakeCase turns STS's error codes (InvalidIdentityToken) into the API's
// code style (invalid_identity_token).
func snakeCase(code string) string {
	rs := []rune(code)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prevLower := unicode.IsLower(rs[i-1])
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || (unicode.IsUpper(rs[i-1]) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// FromTags maps a principal-tag limit failure at vend time.
func FromTags(err error) *Error {
	return NewError(http.StatusForbidden, "tag_limit", "Your claims cannot be turned into AWS session tags: "+PublicTagReason(err)+". Ask an admin to check the pool's tag mapping.", err)
}

// PublicTagReason says which AWS tag limit a claim broke, without
// echoing the claim.
func PublicTagReason(err error) string {
	var te *rules.TagError
	if errors.As(err, &te) {
		return te.Public()
	}
	return "a tag exceeds AWS limits"
}

// Internal is a 500 whose cause only the log sees, or the 503 of a store
// that cannot be written or reached.
func Internal(err error) *Error {
	if e := storeOutage(err); e != nil {
		return e
	}
	return NewError(http.StatusInternalServerError, CodeInternal, "Something went wrong on our side. The request id identifies it in the logs.", err)
}

// storeOutage is the 503 store_unavailable, with Retry-After, of a store
// that cannot write or whose database cannot be reached; nil for any other
// error. The caller did nothing wrong and may come back.
func storeOutage(err error) *Error {
	switch {
	case store.Unwritable(err):
		e := NewError(http.StatusServiceUnavailable, CodeStoreUnavailable,
			"fedgate cannot write to its store right now (its disk is full or read-only). Try again in a moment.", err)
		e.RetryAfter = storeRetryAfter
		return e
	case store.Unavailable(err):
		e := NewError(http.StatusServiceUnavailable, CodeStoreUnavailable,
			"fedgate cannot reach its store right now. Try again in a moment.", err)
		e.RetryAfter = storeUnreachableRetryAfter
		return e
	}
	return nil
}

// AsStoreOutage is e, or the 503 store_unavailable that replaces a server
// error caused by the store being out of reach or out of room: however a
// surface built its 500, the caller learns to come back rather than that
// fedgate is broken. Surfaces call it where they answer.
func AsStoreOutage(e *Error) *Error {
	if e == nil || e.Status < http.StatusInternalServerError || e.Code == CodeStoreUnavailable {
		return e
	}
	if out := storeOutage(e); out != nil {
		out.Cause = e
		return out
	}
	return e
}

// Errorf is a refusal with a formatted public message and no cause.
func Errorf(status int, code, format string, args ...any) *Error {
	return NewError(status, code, fmt.Sprintf(format, args...), nil)
}

// FromSAML maps a SAML provider's refusal to a public error; the private
// cause (which check failed) goes to the operator's log only.
func FromSAML(err error) *Error {
	if e := FromRefusedUpstream(err); e != nil {
		return e
	}
	switch {
	case errors.Is(err, idp.ErrTooLarge):
		return NewError(http.StatusRequestEntityTooLarge, CodeTooLarge, "The SAML response is too large.", err)
	case errors.Is(err, idp.ErrReplay):
		return NewError(http.StatusBadRequest, CodeInvalidToken, "This SAML response was already used. Sign in again.", err)
	case errors.Is(err, idp.ErrUnsolicited):
		return NewError(http.StatusBadRequest, CodeInvalidToken, "fedgate did not start this sign-in, and this identity provider does not accept sign-ins started at the provider. Start from the fedgate start page.", err)
	case errors.Is(err, idp.ErrExpiredToken):
		return NewError(http.StatusUnauthorized, CodeExpiredToken, "The SAML response has expired or is not yet valid. Sign in again.", err)
	case errors.Is(err, idp.ErrUpstream), errors.Is(err, idp.ErrUnsupportedFlow), errors.Is(err, idp.ErrInvalidConfig):
		return FromIdP(err)
	default:
		return NewError(http.StatusUnauthorized, CodeInvalidToken, "The identity provider's SAML response is not valid for this gateway.", err)
	}
}
