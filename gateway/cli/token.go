package cli

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
)

// Grant types of POST /cli/token.
const (
	grantAuthorizationCode = "authorization_code"
	grantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// oauthError is an RFC 6749 §5.2 / RFC 8628 §3.5 token endpoint error.
type oauthError struct {
	Status      int    // 400 unless set
	Code        string // invalid_request, invalid_grant, authorization_pending, slow_down, expired_token, access_denied...
	Description string
	Cause       error
}

func (s *CLI) failOAuth(c *gin.Context, e *oauthError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	code, description := e.Code, e.Description
	if status >= http.StatusInternalServerError {
		// A store out of reach or out of room: OAuth's own word for "come
		// back later", with when.
		if out := core.AsStoreOutage(core.NewError(status, code, description, e.Cause)); out.Code == core.CodeStoreUnavailable {
			status, code, description = out.Status, "temporarily_unavailable", out.Message
			httpkit.SetRetryAfter(c, out.RetryAfter)
		}
	}
	if core.ClientGone(c.Request.Context(), status, e.Cause) {
		status, code = core.StatusClientClosed, core.CodeClientClosed
	}
	log := core.LogFrom(c.Request.Context(), s.log)
	attrs := []any{"code", code, "status", status}
	if e.Cause != nil {
		attrs = append(attrs, "cause", e.Cause.Error())
	}
	switch {
	case status >= 500:
		log.Error("token request failed", attrs...)
	case code == "authorization_pending" || code == "slow_down":
		log.Debug("token request pending", attrs...)
	default:
		log.Warn("token request refused", attrs...)
	}
	httpkit.WriteJSON(c, status, map[string]string{"error": code, "error_description": description, "request_id": httpkit.RequestID(c)})
}

// tokenResponse is what the CLI keeps after a successful login.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	ExpiresAt   string `json:"expires_at"`
	SessionID   string `json:"session_id"`
	Pool        string `json:"pool"`
	Provider    string `json:"provider"`
	User        string `json:"user"`
}

// token is POST /cli/token: a loopback code (with its PKCE verifier)
// or a device code becomes a CLI session.
func (s *CLI) token(c *gin.Context) {
	in, e := input(c, "grant_type", "code", "code_verifier", "redirect_uri", "device_code", "client_id")
	if e != nil {
		s.failOAuth(c, &oauthError{Status: e.Status, Code: "invalid_request", Description: e.Message, Cause: e.Cause})
		return
	}
	var d *draft
	var oe *oauthError
	switch in["grant_type"] {
	case grantAuthorizationCode:
		d, oe = s.redeemCode(c, in)
	case grantDeviceCode:
		d, oe = s.pollDevice(c, in["device_code"])
	default:
		oe = &oauthError{Code: "unsupported_grant_type", Description: "grant_type must be authorization_code or urn:ietf:params:oauth:grant-type:device_code."}
	}
	if oe != nil {
		s.failOAuth(c, oe)
		return
	}
	token, rec, err := s.createSession(c, d)
	if err != nil {
		s.failOAuth(c, &oauthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "Something went wrong on our side.", Cause: err})
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, tokenResponse{
		AccessToken: token, TokenType: "Bearer", ExpiresIn: int64(rec.ExpiresAt.Sub(s.now()).Seconds()),
		ExpiresAt: rec.ExpiresAt.UTC().Format(time.RFC3339), SessionID: rec.ID, Pool: d.Pool, Provider: d.Provider,
		User: displayName(d),
	})
}

func displayName(d *draft) string {
	for _, k := range []string{"email", "preferred_username", "name"} {
		if v, ok := d.Claims[k].(string); ok && v != "" {
			return v
		}
	}
	return d.Subject
}

func pkceS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// createSession stores a new session and returns its bearer token. Only
// the token's hash is stored; claims are sealed with the session's id as
// associated data, so sealed blobs cannot be swapped between sessions.
func (s *CLI) createSession(c *gin.Context, d *draft) (string, *store.CLISession, error) {
	ctx := c.Request.Context()
	token := TokenPrefix + s.randomB64(32)
	id := s.kit.RandomHex(16)
	b, err := json.Marshal(sealedSession{Claims: d.Claims, RawToken: d.RawToken})
	if err != nil {
		return "", nil, err
	}
	sealed, err := s.box.Seal(b, []byte(sessionAAD+id))
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	rec := store.CLISession{
		ID: id, TokenHash: httpkit.Digest(token), Owner: store.CLISessionOwner{Provider: d.Provider, Subject: d.Subject},
		PoolID: d.Pool, Method: d.Method, Client: d.Client, Sealed: sealed,
		CreatedAt: now, ExpiresAt: s.sessionExpiry(d), LastUsedAt: now,
	}
	if !rec.ExpiresAt.After(now) {
		return "", nil, errors.New("the upstream token kept for this session has already expired")
	}
	if err := s.store.CreateCLISession(ctx, rec); err != nil {
		return "", nil, err
	}
	core.LogFrom(ctx, s.log).Info("CLI session created", "session_id", id, "method", d.Method, "pool", d.Pool, "provider", d.Provider,
		"subject", d.Subject, "expires", rec.ExpiresAt.UTC().Format(time.RFC3339))
	return token, &rec, nil
}

func (s *CLI) randomB64(n int) string {
	b := make([]byte, n)
	if _, err := s.rand.Read(b); err != nil {
		panic("fedgate: random source failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// auth is a request authenticated with a CLI session.
type auth struct {
	rec    *store.CLISession
	sealed sealedSession
}

// withSession runs h, a handler of the session's JSON API, with the
// request's CLI session; without a valid one the request is refused here.
func (s *CLI) withSession(h func(c *gin.Context, a *auth)) gin.HandlerFunc {
	return func(c *gin.Context) {
		a, e := s.sessionFrom(c)
		if e != nil {
			s.kit.Fail(c, e)
			return
		}
		h(c, a)
	}
}

// sessionFrom authenticates the bearer CLI session of a request.
func (s *CLI) sessionFrom(c *gin.Context) (*auth, *core.Error) {
	invalid := core.Errorf(http.StatusUnauthorized, CodeSessionInvalid, "This fedgate CLI session has expired or was revoked. Run fedgate login again.")
	h := c.GetHeader("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(token, TokenPrefix) || len(token) > 128 {
		c.Header("WWW-Authenticate", `Bearer realm="fedgate"`)
		return nil, core.Errorf(http.StatusUnauthorized, core.CodeUnauthorized, "Send the CLI session from fedgate login as 'Authorization: Bearer fgcli_…'.")
	}
	ctx := c.Request.Context()
	rec, err := s.store.GetCLISession(ctx, httpkit.Digest(token), s.now())
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="fedgate", error="invalid_token"`)
		if errors.Is(err, store.ErrNotFound) {
			return nil, invalid
		}
		return nil, core.Internal(err)
	}
	var a = &auth{rec: rec}
	b, err := s.box.Open(rec.Sealed, []byte(sessionAAD+rec.ID))
	if err == nil {
		err = json.Unmarshal(b, &a.sealed)
	}
	if err != nil {
		return nil, core.Internal(err)
	}
	if err := s.store.TouchCLISession(ctx, rec.ID, s.now()); err != nil {
		core.LogFrom(ctx, s.log).Warn("recording CLI session use failed", "session_id", rec.ID, "error", err.Error())
	}
	return a, nil
}
