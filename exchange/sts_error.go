package exchange

import (
	"errors"
	"net/http"
	"time"
)

// STS error codes fedgate handles specifically. Network is fedgate's own
// code for a call that got no STS answer at all.
const (
	CodeInvalidIdentityToken    = "InvalidIdentityToken"
	CodeExpiredToken            = "ExpiredTokenException"
	CodeIDPRejectedClaim        = "IDPRejectedClaim"
	CodeIDPCommunicationError   = "IDPCommunicationError"
	CodeAccessDenied            = "AccessDenied"
	CodePackedPolicyTooLarge    = "PackedPolicyTooLarge"
	CodeMalformedPolicyDocument = "MalformedPolicyDocument"
	CodeRegionDisabled          = "RegionDisabledException"
	CodeThrottling              = "Throttling"
	CodeValidationError         = "ValidationError"
	CodeNetwork                 = "NetworkError"
	// CodeUnavailable is STS answering 5xx (ServiceUnavailable,
	// InternalFailure or a bare status) after the retries.
	CodeUnavailable = "ServiceUnavailable"
	// CodeCircuitOpen is fedgate's own: STS failed so often in a row that
	// calls are held back for a short cooldown instead of piling onto it.
	CodeCircuitOpen = "CircuitOpen"
)

// outageRetryAfter is the Retry-After of an STS outage that is not a
// held-back circuit: long enough for a throttle to ease, short enough to
// feel instant when it does.
const outageRetryAfter = time.Second

// ErrInvalidRequest wraps rejections of a Request before any STS call; these
// are gateway bugs or misconfiguration, not the end user's fault.
var ErrInvalidRequest = errors.New("exchange: invalid request")

// STSError is a failed STS call. Public is safe to show the end user; Cause
// (the SDK error, with STS's own message) is for logs only.
type STSError struct {
	Code      string
	Public    string
	Status    int // HTTP status fedgate should answer with
	Retryable bool
	// Outage marks STS being unavailable (throttling, 5xx, unreachable,
	// circuit held open) rather than refusing this request: the caller
	// should come back after RetryAfter.
	Outage     bool
	RetryAfter time.Duration
	Cause      error
}

func (e *STSError) Error() string {
	if e.Cause == nil {
		return "sts: " + e.Code
	}
	return "sts: " + e.Code + ": " + e.Cause.Error()
}

// Unwrap exposes the cause.
func (e *STSError) Unwrap() error { return e.Cause }

// PublicMessage is the message for the end user.
func (e *STSError) PublicMessage() string { return e.Public }

// NewSTSError classifies an STS failure by its error code. Unknown codes
// become a 502 with a generic message.
func NewSTSError(code string, cause error) *STSError {
	e := &STSError{Code: code, Cause: cause}
	switch code {
	case CodeInvalidIdentityToken:
		e.Public, e.Status = "the identity token was rejected by AWS STS", http.StatusUnauthorized
	case CodeExpiredToken:
		e.Public, e.Status = "the identity token has expired — sign in again", http.StatusUnauthorized
	case CodeIDPRejectedClaim:
		e.Public, e.Status = "AWS STS rejected a claim in the identity token", http.StatusForbidden
	case CodeIDPCommunicationError:
		e.Public, e.Status, e.Retryable = "AWS STS could not fetch the identity provider's signing keys — try again shortly",
			http.StatusBadGateway, true
	case CodeAccessDenied:
		e.Public, e.Status = "the role's trust policy does not allow this identity — ask an admin to check the trust policy",
			http.StatusForbidden
	case CodePackedPolicyTooLarge:
		e.Public, e.Status = "the session policy and tags are too large for AWS STS — ask an admin to shorten them",
			http.StatusBadRequest
	case CodeMalformedPolicyDocument:
		e.Public, e.Status = "the session policy was rejected by AWS STS as malformed — ask an admin to fix it",
			http.StatusBadRequest
	case CodeRegionDisabled:
		e.Public, e.Status = "AWS STS is not activated in this region for the role's account — ask an admin to activate it",
			http.StatusForbidden
	case CodeThrottling:
		e.Public = "AWS STS is throttling requests — try again shortly"
		e.markOutage(outageRetryAfter)
	case CodeValidationError:
		e.Public, e.Status = "AWS STS rejected the request (for example a duration above the role's maximum session duration)",
			http.StatusBadRequest
	case CodeNetwork:
		e.Public = "AWS STS could not be reached — try again shortly"
		e.markOutage(outageRetryAfter)
	case CodeUnavailable:
		e.Public = "AWS STS is unavailable — try again shortly"
		e.markOutage(outageRetryAfter)
	default:
		e.Public, e.Status = "AWS STS returned an unexpected error", http.StatusBadGateway
	}
	return e
}

// NewCircuitOpenError is the refusal while calls to STS are held back; the
// caller may come back after retryAfter.
func NewCircuitOpenError(retryAfter time.Duration, cause error) *STSError {
	e := &STSError{Code: CodeCircuitOpen, Cause: cause, Public: "AWS STS is failing, so fedgate is not calling it for a few seconds — try again shortly"}
	e.markOutage(retryAfter)
	return e
}

// markOutage makes e a 503 the caller should retry after d: the fault is
// STS's availability, not the request.
func (e *STSError) markOutage(d time.Duration) {
	e.Status, e.Retryable, e.Outage, e.RetryAfter = http.StatusServiceUnavailable, true, true, d
}
