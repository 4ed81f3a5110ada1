// Package cognito is the Amazon Cognito Identity-compatible API: the AWS
// SDKs' Cognito Identity clients (and fromCognitoIdentityPool) work against
// fedgate by pointing their endpoint at it. This file is the wire protocol
// (JSON 1.1, X-Amz-Target dispatch, AWS-shaped errors); ops.go holds the
// operations.
package cognito

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
	"fedgate/gateway/wire"
)

// Wire constants of the Cognito Identity service model (2014-06-30).
const (
	// TargetPrefix starts X-Amz-Target; the operation's name follows.
	TargetPrefix = "AWSCognitoIdentityService."
	// ContentType is the media type of requests and responses.
	ContentType = "application/x-amz-json-1.1"
	// MaxBody bounds a request before decoding: ten logins of
	// 50000-character tokens and their keys, with room for the rest.
	MaxBody = 600 << 10

	maxLogins        = 10
	maxLoginKeyLen   = 128
	maxLoginTokenLen = 50000
	maxIDLen         = 55
	minARNLen        = 20
	maxARNLen        = 2048
	maxAccountIDLen  = 15
)

// Error types (__type and x-amzn-ErrorType) of the service model, plus
// the two the AWS front end itself returns.
const (
	ErrInvalidParameter  = "InvalidParameterException"
	ErrNotAuthorized     = "NotAuthorizedException"
	ErrResourceNotFound  = "ResourceNotFoundException"
	ErrResourceConflict  = "ResourceConflictException"
	ErrTooManyRequests   = "TooManyRequestsException"
	ErrInvalidPoolConfig = "InvalidIdentityPoolConfigurationException"
	ErrExternalService   = "ExternalServiceException"
	ErrInternalError     = "InternalErrorException"
	ErrUnknownOperation  = "UnknownOperationException"
	ErrSerialization     = "SerializationException"
)

// Refusal messages, in Cognito's words where it has them.
const (
	msgInvalidPoolConfig   = "Invalid identity pool configuration. Check assigned IAM roles for this pool."
	msgUnauthNotSupported  = "Unauthenticated access is not supported for this identity pool."
	msgLoginsDontMatch     = "Logins don't match. Please include at least one valid login for this identity or identity pool."
	msgRateExceeded        = "Rate exceeded"
	msgSTSUnavailable      = "AWS STS is throttling or unavailable. Try again in a moment."
	msgUnsupportedProvider = "Token is not from a supported provider of this identity pool."
	msgClassicFlowDisabled = "Basic (classic) flow is not enabled, please use enhanced flow."
)

// idPattern is the service model's pattern for IdentityId and
// IdentityPoolId ([\w-]+:[0-9a-f-]+), anchored.
var (
	idPattern        = regexp.MustCompile(`^[\w-]+:[0-9a-f-]+$`)
	accountIDPattern = regexp.MustCompile(`^\d+$`)
)

// apiError is a Cognito refusal: the __type in Code, AWS's status (400 for
// every client error of this service, 500 for InternalErrorException).
func apiError(typ, message string, cause error) *core.Error {
	status := http.StatusBadRequest
	if typ == ErrInternalError {
		status = http.StatusInternalServerError
	}
	e := core.NewError(status, typ, message, cause)
	e.Throttled = typ == ErrTooManyRequests
	return e
}

func validationError(member, constraint string) *core.Error {
	return apiError(ErrInvalidParameter, "1 validation error detected: Value at '"+member+"' failed to satisfy constraint: "+constraint, nil)
}

// API serves the operations; its limiters live as long as the routes.
type API struct {
	core       *core.Core
	kit        *httpkit.Kit
	path       string
	log        *slog.Logger
	byAddress  *httpkit.RateLimiter
	byIdentity *httpkit.RateLimiter
	// guestsByAddress budgets the guest identities a source address
	// creates: each is stored before anyone has signed in.
	guestsByAddress *httpkit.RateLimiter
	ops             map[string]func(*gin.Context, []byte) (any, *core.Error)
	signed          map[string]signedOp
	sig             sigV4
}

// New builds the API over the core with the cognito settings; now is the
// rate limiters' clock.
func New(c *core.Core, kit *httpkit.Kit, cfg config.Cognito, log *slog.Logger, now func() time.Time) *API {
	api := &API{
		core:            c,
		kit:             kit,
		path:            cfg.Path,
		log:             log,
		byAddress:       httpkit.NewRateLimiter(cfg.RatePerAddress, cfg.BurstPerAddress, now),
		byIdentity:      httpkit.NewRateLimiter(cfg.RatePerIdentity, cfg.BurstPerIdentity, now),
		guestsByAddress: httpkit.NewRateLimiter(cfg.GuestRatePerAddress, cfg.GuestBurstPerAddress, now),
	}
	api.ops = map[string]func(*gin.Context, []byte) (any, *core.Error){
		"GetId":                     api.getID,
		"GetCredentialsForIdentity": api.getCredentialsForIdentity,
		"GetOpenIdToken":            api.getOpenIDToken,
		"UnlinkIdentity":            api.unlinkIdentity,
	}
	api.signed = api.signedOps()
	api.sig = sigV4{service: SigningService, required: requiredSigned, resolve: api.resolveKey}
	return api
}

// Mount adds the API on POST / and on cognito.path, with the CORS
// preflight browsers send before a cross-origin SDK call. Refusals of the
// credential operations are audited.
func (api *API) Mount(r *gin.Engine) {
	for _, path := range []string{"/", api.path} {
		if path == "" {
			continue
		}
		r.POST(path, api.kit.AuditRefusalsIf(store.AuditVend, isCredentialOp), api.serve)
		r.OPTIONS(path, api.preflight)
	}
}

// isCredentialOp tells the operations whose refusals are credential
// refusals, for the audit log.
func isCredentialOp(c *gin.Context) bool {
	op, ok := strings.CutPrefix(c.GetHeader("X-Amz-Target"), TargetPrefix)
	return ok && (op == "GetId" || op == "GetCredentialsForIdentity" || op == "GetOpenIdToken" || op == "UnlinkIdentity")
}

// corsHeaders let browser apps call the API cross-origin, as they call
// Cognito. No cookie or ambient credential is involved (the logins are in
// the body), so any origin may.
func corsHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date")
}

func (api *API) preflight(c *gin.Context) {
	corsHeaders(c)
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, X-Amz-Target, X-Amz-User-Agent, X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token, Authorization, Amz-Sdk-Invocation-Id, Amz-Sdk-Request, X-Request-Id")
	h.Set("Access-Control-Max-Age", "86400")
	c.Status(http.StatusNoContent)
}

func (api *API) serve(c *gin.Context) {
	c.Header("x-amzn-RequestId", httpkit.RequestID(c))
	corsHeaders(c)
	op, ok := strings.CutPrefix(c.GetHeader("X-Amz-Target"), TargetPrefix)
	handler := api.ops[op]
	signed, isSigned := api.signed[op]
	if !ok || (handler == nil && !isSigned) {
		api.fail(c, apiError(ErrUnknownOperation, "This endpoint speaks the Cognito Identity API: send X-Amz-Target: AWSCognitoIdentityService. followed by the operation name, e.g. AWSCognitoIdentityService.GetId.", nil))
		return
	}
	if isSigned {
		handler = func(c *gin.Context, body []byte) (any, *core.Error) { return api.serveSigned(c, op, signed, body) }
	}
	if !api.byAddress.Allow(httpkit.SourceKey(c.ClientIP())) {
		api.fail(c, apiError(ErrTooManyRequests, msgRateExceeded, errors.New("source address over its rate limit")))
		return
	}
	if ct := c.ContentType(); ct != ContentType {
		api.fail(c, apiError(ErrSerialization, "Send the request body as "+ContentType+".", nil))
		return
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, MaxBody+1))
	switch {
	case err != nil && httpkit.IsTooLarge(err), len(body) > MaxBody:
		api.fail(c, apiError(ErrInvalidParameter, "The request body is too large.", err))
		return
	case err != nil:
		api.fail(c, apiError(ErrSerialization, "The request body could not be read.", err))
		return
	}
	out, e := handler(c, body)
	if e != nil {
		api.fail(c, e)
		return
	}
	api.reply(c, http.StatusOK, out)
}

// reply writes a JSON 1.1 body; credentials and tokens are never cached.
func (api *API) reply(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		api.fail(c, apiError(ErrInternalError, "An internal error occurred.", err))
		return
	}
	httpkit.NoCache(c)
	c.Data(status, ContentType, b)
}

// fail logs the refusal with its private cause and answers with the public
// part only, in the shape the AWS SDKs parse.
func (api *API) fail(c *gin.Context, e *core.Error) {
	if out := core.AsStoreOutage(e); out.Code == core.CodeStoreUnavailable {
		// The service model has no "unavailable" type, and an unmodelled
		// one reaches SDK users as a generic error. A 503 is what the AWS
		// SDKs (Go v2, botocore, JavaScript v3) retry with backoff whatever
		// the type, so it stays the modelled InternalErrorException.
		e = &core.Error{Status: out.Status, Code: ErrInternalError, Message: out.Message, Cause: out.Cause, RetryAfter: out.RetryAfter}
	}
	e = core.AsClientClosed(c.Request.Context(), e)
	log := core.LogFrom(c.Request.Context(), api.log)
	core.NoteRefusal(c.Request.Context(), e) // audited by the route unless a handler did
	attrs := []any{"api", "cognito", "error_type", e.Code, "status", e.Status}
	if e.Cause != nil {
		attrs = append(attrs, "cause", e.Cause.Error())
	}
	if e.Status >= 500 {
		log.Error("request failed", attrs...)
	} else {
		log.Warn("request refused", attrs...)
	}
	c.Header("x-amzn-ErrorType", e.Code)
	httpkit.SetRetryAfter(c, e.RetryAfter)
	api.reply(c, e.Status, wire.CognitoError{Type: e.Code, Message: e.Message})
	c.Abort()
}

// decode reads the JSON object of one operation. Unknown members
// are ignored, as AWS does, so newer SDKs keep working; wrong types and
// malformed JSON are a SerializationException.
func decode(body []byte, v any) *core.Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return apiError(ErrSerialization, "The request body is not the JSON this operation expects: "+httpkit.JSONProblem(err)+".", err)
	}
	if dec.More() {
		return apiError(ErrSerialization, "The request body must hold one JSON object.", nil)
	}
	return nil
}

// checkID validates an IdentityId or IdentityPoolId member.
func checkID(member, v string, required bool) *core.Error {
	switch {
	case v == "" && !required:
		return nil
	case v == "":
		return validationError(member, "Member must not be null")
	case len(v) > maxIDLen:
		return validationError(member, "Member must have length less than or equal to 55")
	case !idPattern.MatchString(v):
		return validationError(member, `Member must satisfy regular expression pattern: [\w-]+:[0-9a-f-]+`)
	}
	return nil
}

// checkLogins validates the Logins map's shape (not the tokens).
func checkLogins(logins map[string]string) *core.Error {
	if len(logins) > maxLogins {
		return validationError("logins", "Member must have length less than or equal to 10")
	}
	for k, v := range logins {
		if k == "" || utf8.RuneCountInString(k) > maxLoginKeyLen {
			return validationError("logins", "Map keys must have length between 1 and 128")
		}
		if v == "" || utf8.RuneCountInString(v) > maxLoginTokenLen {
			return validationError("logins", "Map values must have length between 1 and 50000")
		}
	}
	return nil
}

// parseGetID decodes and validates a GetId body.
func parseGetID(body []byte) (wire.GetIDInput, *core.Error) {
	var in wire.GetIDInput
	if e := decode(body, &in); e != nil {
		return in, e
	}
	if e := checkID("identityPoolId", in.IdentityPoolID, true); e != nil {
		return in, e
	}
	if in.AccountID != "" && (len(in.AccountID) > maxAccountIDLen || !accountIDPattern.MatchString(in.AccountID)) {
		return in, validationError("accountId", `Member must satisfy regular expression pattern: \d+`)
	}
	return in, checkLogins(in.Logins)
}

// parseGetCredentials decodes and validates a GetCredentialsForIdentity body.
func parseGetCredentials(body []byte) (wire.GetCredentialsForIdentityInput, *core.Error) {
	var in wire.GetCredentialsForIdentityInput
	if e := decode(body, &in); e != nil {
		return in, e
	}
	if e := checkID("identityId", in.IdentityID, true); e != nil {
		return in, e
	}
	if n := len(in.CustomRoleArn); n > 0 && (n < minARNLen || n > maxARNLen) {
		return in, validationError("customRoleArn", "Member must have length between 20 and 2048")
	}
	return in, checkLogins(in.Logins)
}

// parseGetOpenIDToken decodes and validates a GetOpenIdToken body.
func parseGetOpenIDToken(body []byte) (wire.GetOpenIDTokenInput, *core.Error) {
	var in wire.GetOpenIDTokenInput
	if e := decode(body, &in); e != nil {
		return in, e
	}
	if e := checkID("identityId", in.IdentityID, true); e != nil {
		return in, e
	}
	return in, checkLogins(in.Logins)
}
