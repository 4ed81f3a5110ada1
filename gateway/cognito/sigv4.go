package cognito

// AWS Signature Version 4 verification of the operations that AWS signs
// (pool and identity management, developer identities). The expected
// signature is computed with aws-sdk-go-v2's own signer over a request
// rebuilt from exactly the headers the client signed, then compared in
// constant time.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"fedgate/gateway/core"
)

// Signature errors, as AWS's front end names them.
const (
	ErrMissingAuth        = "MissingAuthenticationTokenException"
	ErrIncompleteSig      = "IncompleteSignature"
	ErrInvalidSignature   = "InvalidSignatureException"
	ErrUnrecognizedClient = "UnrecognizedClientException"
	ErrAccessDenied       = "AccessDeniedException"
)

const (
	sigAlgorithm   = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	sigClockWindow = 5 * time.Minute
	// SigningService is the service name in a request's credential scope.
	SigningService = "cognito-identity"
	// msgSignatureMismatch is AWS's wording.
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgUnrecognized      = "The security token included in the request is invalid."
)

var (
	regionPattern    = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
	signaturePattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// requiredSigned are headers every accepted signature covers, so none of
// them can be changed or replayed under another operation.
var requiredSigned = []string{"host", "x-amz-date", "x-amz-target"}

// sigAuth is a parsed Authorization header.
type sigAuth struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    string
}

func incomplete(msg string) *core.Error { return apiError(ErrIncompleteSig, msg, nil) }

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/
// SERVICE/aws4_request, SignedHeaders=a;b, Signature=HEX".
func parseAuthorization(h string) (*sigAuth, *core.Error) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != sigAlgorithm {
		return nil, incomplete("Authorization header requires the " + sigAlgorithm + " algorithm.")
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, incomplete("Authorization header has a malformed parameter.")
		}
		params[k] = v
	}
	for _, need := range []string{"Credential", "SignedHeaders", "Signature"} {
		if params[need] == "" {
			return nil, incomplete("Authorization header requires '" + need + "' parameter.")
		}
	}
	scope := strings.Split(params["Credential"], "/")
	if len(scope) != 5 || scope[0] == "" || scope[4] != "aws4_request" {
		return nil, incomplete("Credential must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request.")
	}
	a := &sigAuth{keyID: scope[0], date: scope[1], region: scope[2], service: scope[3], signature: params["Signature"]}
	if !regionPattern.MatchString(a.region) {
		return nil, incomplete("Credential should be scoped to a valid region.")
	}
	if !signaturePattern.MatchString(a.signature) {
		return nil, incomplete("Signature must be 64 lowercase hexadecimal characters.")
	}
	a.signedHeaders = strings.Split(params["SignedHeaders"], ";")
	for _, h := range a.signedHeaders {
		if h == "" || h != strings.ToLower(h) {
			return nil, incomplete("SignedHeaders must be lowercase header names separated by ';'.")
		}
	}
	return a, nil
}

// signedKey is an access key the request proved it holds.
type signedKey struct {
	ID, Name, Role, PoolID string
	// Region is the region of the request's credential scope.
	Region string
}

// keyResolver returns a key's record and secret; core.ErrAccessKeyNotFound
// for an unknown id.
type keyResolver func(ctx context.Context, id string) (key signedKey, secret string, disabled bool, err error)

// sigV4 verifies the signatures of one service.
type sigV4 struct {
	service string
	// required are headers every accepted signature must cover.
	required []string
	resolve  keyResolver
}

// verify checks the request's signature over body, within the clock
// window around now. It returns the key named, once known, with any
// refusal.
func (v sigV4) verify(r *http.Request, body []byte, now time.Time) (*signedKey, *core.Error) {
	service := v.service
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, apiError(ErrMissingAuth, "Missing Authentication Token", nil)
	}
	a, e := parseAuthorization(h)
	if e != nil {
		return nil, e
	}
	for _, need := range v.required {
		if !slices.Contains(a.signedHeaders, need) {
			return nil, incomplete("The request must sign the " + strings.Join(v.required, ", ") + " headers.")
		}
	}
	if a.service != service {
		return nil, apiError(ErrInvalidSignature, "Credential should be scoped to correct service: '"+service+"'.", nil)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	at, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return nil, incomplete("X-Amz-Date must be an ISO 8601 basic time such as 20150830T123600Z.")
	}
	if a.date != at.Format("20060102") {
		return nil, apiError(ErrInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+a.date+"' != '"+at.Format("20060102")+"'.", nil)
	}
	if d := now.Sub(at); d > sigClockWindow || d < -sigClockWindow {
		return nil, apiError(ErrInvalidSignature, "Signature expired: "+amzDate+" is now earlier than "+now.Add(-sigClockWindow).UTC().Format(amzDateFormat)+
			" ("+now.UTC().Format(amzDateFormat)+" - 5 min.)", nil)
	}
	if r.Header.Get("X-Amz-Security-Token") != "" {
		// fedgate issues long-term keys only; a session token is AWS's.
		return nil, apiError(ErrUnrecognizedClient, msgUnrecognized, errors.New("request carries a session token"))
	}
	key, secret, disabled, err := v.resolve(r.Context(), a.keyID)
	switch {
	case errors.Is(err, core.ErrAccessKeyNotFound):
		return nil, apiError(ErrUnrecognizedClient, msgUnrecognized, errors.New("unknown access key "+a.keyID))
	case err != nil:
		return nil, apiError(ErrInternalError, "An internal error occurred.", err)
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if declared := r.Header.Get("X-Amz-Content-Sha256"); declared != "" && declared != payloadHash {
		return &key, apiError(ErrInvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.", nil)
	}
	expected, err := expectedSignature(r, a, secret, payloadHash, at)
	if err != nil {
		return &key, apiError(ErrInvalidSignature, msgSignatureMismatch, err)
	}
	if subtle.ConstantTimeCompare([]byte(expected), []byte(a.signature)) != 1 {
		return &key, apiError(ErrInvalidSignature, msgSignatureMismatch, errors.New("signature mismatch"))
	}
	key.Region = a.region
	if disabled {
		// Checked after the signature so that only the key's holder learns it.
		return &key, apiError(ErrUnrecognizedClient, msgUnrecognized, errors.New("access key "+a.keyID+" is disabled"))
	}
	return &key, nil
}

// expectedSignature signs a copy of r carrying only the signed headers,
// with the SDK's signer, and returns its signature. The copy's signed
// header list must come out as the client's, or the two signatures cover
// different things.
func expectedSignature(r *http.Request, a *sigAuth, secret, payloadHash string, at time.Time) (string, error) {
	host := r.Host
	if host == "" { // a request built in process, not read from a connection
		host = r.URL.Host
	}
	u := *r.URL
	u.Scheme, u.Host = "http", host
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Host = host
	for _, name := range a.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			n, err := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
			if err != nil {
				n = r.ContentLength
			}
			req.ContentLength = n
		default:
			vals := r.Header.Values(name)
			if len(vals) == 0 {
				return "", errors.New("signed header " + name + " is absent")
			}
			req.Header[http.CanonicalHeaderKey(name)] = vals
		}
	}
	creds := aws.Credentials{AccessKeyID: a.keyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, req, payloadHash, a.service, a.region, at); err != nil {
		return "", err
	}
	got, e := parseAuthorization(req.Header.Get("Authorization"))
	if e != nil {
		return "", errors.New("the signer's Authorization header: " + e.Message)
	}
	if strings.Join(got.signedHeaders, ";") != strings.Join(a.signedHeaders, ";") {
		return "", errors.New("the client signed headers " + strings.Join(a.signedHeaders, ";") + ", the verifier " + strings.Join(got.signedHeaders, ";"))
	}
	return got.signature, nil
}
