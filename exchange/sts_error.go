package exchange

import (
	"errors"
	"net/http"
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
)

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
	Cause     error
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
		e.Public, e.Status, e.Retryable = "AWS STS is throttling requests — try again shortly", http.StatusTooManyRequests, true
	case CodeValidationError:
		e.Public, e.Status = "AWS STS rejected the request (for example a duration above the role's maximum session duration)",
			http.StatusBadRequest
	case CodeNetwork:
		e.Public, e.Status, e.Retryable = "AWS STS could not be reached", http.StatusBadGateway, true
	default:
		e.Public, e.Status = "AWS STS returned an unexpected error", http.StatusBadGateway
	}
	return e
}
