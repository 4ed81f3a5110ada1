package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/smithy-go"

	"fedgate/exchange"
	"fedgate/gateway/cognito"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// cogGoldenDir holds the golden request and response bodies. Regenerate
// with COGNITO_UPDATE_GOLDEN=1 go test ./gateway -run TestCognitoGolden,
// then review the diff: a change there is a change of the wire format.
const cogGoldenDir = "testdata/cognito"

// cogFixedNow is the golden tests' clock, so expirations are stable.
var cogFixedNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

type cogGoldenCase struct {
	name string
	opts []func(*config.File)
	// setup prepares state and returns values the call needs.
	setup func(h *cogHarness) map[string]string
	// sdk makes the call with the AWS SDK for Go, or raw sends bytes.
	sdk      func(ctx context.Context, h *cogHarness, c *cognitoidentity.Client, v map[string]string) error
	raw      func(h *cogHarness) *http.Request
	wantType string // "" for success
	// wantStatus, when set, is the HTTP status instead of the type's usual one.
	wantStatus int
	// signer, when set, makes sdk sign with an access key of that role
	// ("viewer", "editor"), or with a key that is disabled, unknown, or
	// whose secret or clock is wrong.
	signer string
}

func idOf(h *cogHarness, pool, user string) map[string]string {
	if user == "" {
		return map[string]string{"id": h.mustID(pool, nil)}
	}
	return map[string]string{"id": h.mustID(pool, h.logins(user))}
}

func cogGoldenCases() []cogGoldenCase {
	alice := func(h *cogHarness) map[string]string { return idOf(h, cogPoolID, "alice") }
	guest := func(h *cogHarness) map[string]string { return idOf(h, cogPoolID, "") }
	gcfi := func(logins func(*cogHarness) map[string]string, role string) func(context.Context, *cogHarness, *cognitoidentity.Client, map[string]string) error {
		return func(ctx context.Context, h *cogHarness, c *cognitoidentity.Client, v map[string]string) error {
			in := &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(v["id"])}
			if logins != nil {
				in.Logins = logins(h)
			}
			if role != "" {
				in.CustomRoleArn = aws.String(role)
			}
			_, err := c.GetCredentialsForIdentity(ctx, in)
			return err
		}
	}
	getID := func(pool string, logins func(*cogHarness) map[string]string) func(context.Context, *cogHarness, *cognitoidentity.Client, map[string]string) error {
		return func(ctx context.Context, h *cogHarness, c *cognitoidentity.Client, _ map[string]string) error {
			in := &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(pool)}
			if logins != nil {
				in.Logins = logins(h)
			}
			_, err := c.GetId(ctx, in)
			return err
		}
	}
	openID := func(logins func(*cogHarness) map[string]string) func(context.Context, *cogHarness, *cognitoidentity.Client, map[string]string) error {
		return func(ctx context.Context, h *cogHarness, c *cognitoidentity.Client, v map[string]string) error {
			in := &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(v["id"])}
			if logins != nil {
				in.Logins = logins(h)
			}
			_, err := c.GetOpenIdToken(ctx, in)
			return err
		}
	}
	loginsOf := func(user string) func(*cogHarness) map[string]string {
		return func(h *cogHarness) map[string]string { return h.logins(user) }
	}
	withToken := func(aud string, ttl time.Duration, extra map[string]any) func(*cogHarness) map[string]string {
		return func(h *cogHarness) map[string]string {
			return map[string]string{h.idp.loginKey(): h.idp.token(h.t, "alice", aud, ttl, extra)}
		}
	}
	rawPost := func(target, contentType, body string) func(*cogHarness) *http.Request {
		return func(*cogHarness) *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			if target != "" {
				req.Header.Set("X-Amz-Target", target)
			}
			return req
		}
	}
	elevenLogins := func(*cogHarness) map[string]string {
		m := map[string]string{}
		for i := range 11 {
			m[fmt.Sprintf("idp%02d.example.com", i)] = "token"
		}
		return m
	}
	noLogins := func(*cogHarness) map[string]string { return nil }
	return append([]cogGoldenCase{
		{name: "GetId.login", sdk: getID(cogPoolID, loginsOf("alice"))},
		{name: "GetId.guest", sdk: getID(cogPoolID, nil)},
		{name: "GetCredentialsForIdentity.login", setup: alice, sdk: gcfi(loginsOf("alice"), "")},
		{name: "GetCredentialsForIdentity.guest", setup: guest, sdk: gcfi(nil, "")},
		{name: "GetCredentialsForIdentity.custom-role", setup: func(h *cogHarness) map[string]string { return idOf(h, cogPoolID, "carol") },
			sdk: gcfi(loginsOf("carol"), cogAdminRole)},
		{name: "GetOpenIdToken.login", setup: alice, sdk: openID(loginsOf("alice"))},
		{name: "GetOpenIdToken.guest", setup: guest, sdk: openID(nil)},

		{name: "InvalidParameterException.eleven-logins", sdk: getID(cogPoolID, elevenLogins), wantType: cognito.ErrInvalidParameter},
		{name: "InvalidParameterException.pool-id", sdk: getID("team", nil), wantType: cognito.ErrInvalidParameter},
		{name: "InvalidParameterException.classic-flow-disabled", setup: func(h *cogHarness) map[string]string { return idOf(h, cogClosedID, "alice") },
			sdk: openID(loginsOf("alice")), wantType: cognito.ErrInvalidParameter},
		{name: "InvalidParameterException.body-too-large",
			raw:      rawPost(cognito.TargetPrefix+"GetId", cognito.ContentType, `{"IdentityPoolId":"`+cogPoolID+`","Logins":{"x":"`+strings.Repeat("a", cognito.MaxBody)+`"}}`),
			wantType: cognito.ErrInvalidParameter},
		{name: "NotAuthorizedException.expired-token", sdk: getID(cogPoolID, withToken(cogWebClient, -10*time.Minute, nil)), wantType: cognito.ErrNotAuthorized},
		{name: "NotAuthorizedException.token-for-another-client", sdk: getID(cogPoolID, withToken("someone-else", 5*time.Minute, nil)), wantType: cognito.ErrNotAuthorized},
		{name: "NotAuthorizedException.issuer-key-mismatch", sdk: getID(cogPoolID, withToken(cogWebClient, 5*time.Minute, map[string]any{"iss": "https://accounts.example.org"})), wantType: cognito.ErrNotAuthorized},
		{name: "NotAuthorizedException.unsupported-provider",
			sdk: getID(cogPoolID, func(h *cogHarness) map[string]string {
				return map[string]string{"accounts.google.com": h.token("alice")}
			}),
			wantType: cognito.ErrNotAuthorized},
		{name: "NotAuthorizedException.identity-of-another-user", setup: alice, sdk: gcfi(loginsOf("bob"), ""), wantType: cognito.ErrNotAuthorized},
		{name: "NotAuthorizedException.guests-disabled", sdk: getID(cogClosedID, nil), wantType: cognito.ErrNotAuthorized},
		{name: "GetCredentialsForIdentity.guest-signs-in", setup: guest, sdk: gcfi(loginsOf("alice"), "")},
		{name: "NotAuthorizedException.upgraded-guest-of-another-user", setup: func(h *cogHarness) map[string]string {
			v := guest(h)
			if r, _ := h.creds(v["id"], h.logins("carol"), ""); r.status != http.StatusOK {
				h.t.Fatalf("carol signing the guest in: %s", r.body)
			}
			return v
		}, sdk: gcfi(loginsOf("alice"), ""), wantType: cognito.ErrNotAuthorized},
		{name: "NotAuthorizedException.custom-role-not-entitled", setup: alice, sdk: gcfi(loginsOf("alice"), cogAdminRole), wantType: cognito.ErrNotAuthorized},
		{name: "NotAuthorizedException.no-matching-rule", setup: func(h *cogHarness) map[string]string { return idOf(h, cogPoolID, "bob") },
			sdk: gcfi(loginsOf("bob"), ""), wantType: cognito.ErrNotAuthorized},
		{name: "NotAuthorizedException.logins-missing", setup: alice, sdk: gcfi(noLogins, ""), wantType: cognito.ErrNotAuthorized},
		{name: "ResourceNotFoundException.unknown-pool", sdk: getID(cogUnknownID, loginsOf("alice")), wantType: cognito.ErrResourceNotFound},
		{name: "ResourceNotFoundException.unknown-identity",
			setup: func(*cogHarness) map[string]string { return map[string]string{"id": cogUnknownID} }, sdk: gcfi(nil, ""), wantType: cognito.ErrResourceNotFound},
		{name: "ResourceConflictException.identity-id-taken",
			setup: func(h *cogHarness) map[string]string {
				h.store.createErr = &store.Error{Op: "GetOrCreateIdentity", Kind: store.ErrConflict}
				return nil
			},
			sdk: getID(cogPoolID, loginsOf("alice")), wantType: cognito.ErrResourceConflict},
		{name: "TooManyRequestsException.per-identity",
			opts: []func(*config.File){func(f *config.File) { f.Cognito.BurstPerIdentity, f.Cognito.RatePerIdentity = 1, 0.001 }},
			setup: func(h *cogHarness) map[string]string {
				v := idOf(h, cogPoolID, "")
				if r := h.call("GetCredentialsForIdentity", map[string]any{"IdentityId": v["id"]}); r.status != http.StatusOK {
					h.t.Fatalf("first call: HTTP %d %s", r.status, r.body)
				}
				return v
			},
			sdk: gcfi(nil, ""), wantType: cognito.ErrTooManyRequests},
		{name: "InvalidIdentityPoolConfigurationException.trust-policy", setup: func(h *cogHarness) map[string]string {
			v := alice(h)
			h.sts.Fail(exchange.NewSTSError(exchange.CodeAccessDenied, errors.New("Not authorized to perform sts:AssumeRoleWithWebIdentity")))
			return v
		}, sdk: gcfi(loginsOf("alice"), ""), wantType: cognito.ErrInvalidPoolConfig},
		{name: "ExternalServiceException.sts-idp-communication", setup: func(h *cogHarness) map[string]string {
			v := guest(h)
			h.sts.Fail(exchange.NewSTSError(exchange.CodeIDPCommunicationError, errors.New("could not fetch the JWKS")))
			return v
		}, sdk: gcfi(nil, ""), wantType: cognito.ErrExternalService},
		{name: "TooManyRequestsException.sts-unreachable", setup: func(h *cogHarness) map[string]string {
			v := guest(h)
			h.sts.Fail(exchange.NewSTSError(exchange.CodeNetwork, errors.New("dial tcp: connection refused")))
			return v
		}, sdk: gcfi(nil, ""), wantType: cognito.ErrTooManyRequests},
		{name: "InternalErrorException.store-down", setup: func(h *cogHarness) map[string]string {
			v := guest(h)
			h.store.lookErr = errors.New("disk I/O error at /var/lib/fedgate/fedgate.db")
			return v
		}, sdk: gcfi(nil, ""), wantType: cognito.ErrInternalError},
		{name: "InternalErrorException.store-unreachable", setup: func(h *cogHarness) map[string]string {
			v := guest(h)
			h.store.lookErr = &store.Error{Op: "LookupIdentity", Kind: store.ErrUnavailable, Err: errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")}
			return v
		}, sdk: gcfi(nil, ""), wantType: cognito.ErrInternalError, wantStatus: http.StatusServiceUnavailable},
		{name: "UnknownOperationException.no-target", raw: rawPost("", cognito.ContentType, `{"IdentityPoolId":"`+cogPoolID+`"}`), wantType: cognito.ErrUnknownOperation},
		{name: "UnknownOperationException.other-operation", raw: rawPost(cognito.TargetPrefix+"DescribeUserPool", cognito.ContentType, `{"IdentityPoolId":"`+cogPoolID+`"}`), wantType: cognito.ErrUnknownOperation},
		{name: "SerializationException.malformed-json", raw: rawPost(cognito.TargetPrefix+"GetId", cognito.ContentType, `{"IdentityPoolId":`), wantType: cognito.ErrSerialization},
		{name: "SerializationException.wrong-type", raw: rawPost(cognito.TargetPrefix+"GetId", cognito.ContentType, `{"IdentityPoolId":"`+cogPoolID+`","Logins":["x"]}`), wantType: cognito.ErrSerialization},
		{name: "SerializationException.content-type", raw: rawPost(cognito.TargetPrefix+"GetId", "application/json", `{"IdentityPoolId":"`+cogPoolID+`"}`), wantType: cognito.ErrSerialization},
	}, append(append(signedGoldenCases(), developerGoldenCases()...), tagGoldenCases()...)...)
}

// TestCognitoGolden pins the wire format: for every operation and every
// error type, the request the AWS SDK for Go sends and the response
// fedgate answers are compared byte for byte with testdata/cognito, and
// the SDK must parse the answer (as a success, or as the modelled error).
func TestCognitoGolden(t *testing.T) {
	update := os.Getenv("COGNITO_UPDATE_GOLDEN") == "1"
	seen := map[string]bool{}
	for _, tc := range cogGoldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			h := newCogHarness(t, append([]func(*config.File){func(*config.File) {}}, tc.opts...)...)
			var vals map[string]string
			if tc.setup != nil {
				vals = tc.setup(h)
			}
			var reqBody, respBody []byte
			var status int
			var header http.Header
			if tc.sdk != nil {
				c, wire := h.sdk()
				if tc.signer != "" {
					c, wire = h.goldenSigner(tc.signer)
				}
				err := tc.sdk(context.Background(), h, c, vals)
				checkSDKError(t, err, tc.wantType)
				reqBody, respBody, status, header = wire.req, wire.resp, wire.status, wire.respHeader
				if got := wire.reqHeader.Get("X-Amz-Target"); !strings.HasPrefix(got, cognito.TargetPrefix) {
					t.Errorf("SDK sent X-Amz-Target %q", got)
				}
			} else {
				req := tc.raw(h)
				var buf bytes.Buffer
				_, _ = buf.ReadFrom(req.Body)
				reqBody = buf.Bytes()
				req.Body = io.NopCloser(bytes.NewReader(reqBody))
				r := h.do(req)
				respBody, status, header = r.body, r.status, r.header
			}
			checkWireHeaders(t, status, header, tc.wantType, tc.wantStatus)
			seen[strings.SplitN(tc.name, ".", 2)[0]] = true

			norm := h.normalizer(reqBody, respBody)
			if len(reqBody) <= 4096 {
				// The SDK writes map members in random order; requests are
				// compared in canonical JSON (sorted keys) when they parse.
				compareGolden(t, update, tc.name+".request.json", norm.Replace(string(canonicalJSON(reqBody))))
			}
			compareGolden(t, update, tc.name+".response.json", norm.Replace(string(respBody)))
		})
	}
	for _, typ := range []string{"GetId", "GetCredentialsForIdentity", "GetOpenIdToken",
		"ListIdentityPools", "DescribeIdentityPool", "DescribeIdentity", "ListIdentities", "DeleteIdentities", "UnlinkIdentity",
		"CreateIdentityPool", "DeleteIdentityPool", "UpdateIdentityPool", "SetIdentityPoolRoles", "GetIdentityPoolRoles", "GetPrincipalTagAttributeMap", "ListTagsForResource",
		"GetOpenIdTokenForDeveloperIdentity", "LookupDeveloperIdentity", "MergeDeveloperIdentities", "UnlinkDeveloperIdentity", cognito.ErrDeveloperUserAlreadyRegistered,
		cognito.ErrMissingAuth, cognito.ErrIncompleteSig, cognito.ErrInvalidSignature, cognito.ErrUnrecognizedClient, cognito.ErrAccessDenied,
		cognito.ErrInvalidParameter, cognito.ErrNotAuthorized,
		cognito.ErrResourceNotFound, cognito.ErrResourceConflict, cognito.ErrTooManyRequests, cognito.ErrInvalidPoolConfig, cognito.ErrExternalService, cognito.ErrInternalError} {
		if !seen[typ] {
			t.Errorf("no golden case for %s", typ)
		}
	}
}

// normalizer replaces the values that differ between runs (the test
// IdP's address and the tokens signed with its per-run key, tokens
// fedgate minted) with placeholders; everything else is compared as is.
func (h *cogHarness) normalizer(req, resp []byte) *strings.Replacer {
	pairs := []string{h.idp.loginKey(), "<idp-login-key>", h.idp.URL(), "<idp-issuer>"}
	if h.keyID != "" {
		pairs = append(pairs, h.keyID, "<access-key-id>")
	}
	// Tokens are JWTs (three base64url parts); the replacer sees them as
	// whole strings inside JSON quotes.
	for _, s := range jwtsIn(string(req)) {
		pairs = append(pairs, s, "<upstream-token>")
	}
	for _, s := range jwtsIn(string(resp)) {
		pairs = append(pairs, s, "<minted-token>")
	}
	return strings.NewReplacer(pairs...)
}

// jwtsIn finds JWT-shaped JSON string values.
func jwtsIn(s string) []string {
	var out []string
	for _, part := range strings.Split(s, `"`) {
		if strings.Count(part, ".") == 2 && strings.HasPrefix(part, "eyJ") {
			out = append(out, part)
		}
	}
	return out
}

func canonicalJSON(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b
	}
	return out
}

func checkSDKError(t *testing.T, err error, wantType string) {
	t.Helper()
	if wantType == "" {
		if err != nil {
			t.Fatalf("SDK call failed: %v", err)
		}
		return
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("SDK error = %v, want an API error %s", err, wantType)
	}
	if apiErr.ErrorCode() != wantType {
		t.Errorf("SDK error code = %q, want %q", apiErr.ErrorCode(), wantType)
	}
	// Modelled errors come back as the SDK's own types, not generic ones;
	// the front end's signature errors are not in the service model.
	if typ := fmt.Sprintf("%T", apiErr); !strings.HasPrefix(typ, "*types.") && !frontEndError[wantType] {
		t.Errorf("SDK parsed %s as %s, not the modelled type", wantType, typ)
	}
	if apiErr.ErrorMessage() == "" {
		t.Error("SDK error has no message")
	}
}

// frontEndError are the errors AWS's front end returns, outside the
// service model: the SDK parses them as generic API errors.
var frontEndError = map[string]bool{
	cognito.ErrMissingAuth: true, cognito.ErrIncompleteSig: true, cognito.ErrInvalidSignature: true,
	cognito.ErrUnrecognizedClient: true, cognito.ErrAccessDenied: true, cognito.ErrUnknownOperation: true, cognito.ErrSerialization: true,
}

func checkWireHeaders(t *testing.T, status int, h http.Header, wantType string, wantStatus int) {
	t.Helper()
	switch {
	case wantStatus != 0:
	case wantType == "":
		wantStatus = http.StatusOK
	case wantType == cognito.ErrInternalError:
		wantStatus = http.StatusInternalServerError
	default:
		wantStatus = http.StatusBadRequest
	}
	if status != wantStatus {
		t.Errorf("status = %d, want %d", status, wantStatus)
	}
	if wantStatus == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		t.Error("a 503 without Retry-After")
	}
	if got := h.Get("x-amzn-ErrorType"); got != wantType {
		t.Errorf("x-amzn-ErrorType = %q, want %q", got, wantType)
	}
	if h.Get("x-amzn-RequestId") == "" {
		t.Error("no x-amzn-RequestId")
	}
	if got := h.Get("Content-Type"); got != cognito.ContentType {
		t.Errorf("Content-Type = %q", got)
	}
	if got := h.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
}

func compareGolden(t *testing.T, update bool, name, got string) {
	t.Helper()
	path := filepath.Join(cogGoldenDir, name)
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (COGNITO_UPDATE_GOLDEN=1 writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file\n got: %s\nwant: %s", name, got, want)
	}
}
