package gateway

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/idp"
)

// maxBearerBytes bounds a presented token before any parsing (STS itself
// takes at most 20000 characters).
const maxBearerBytes = 20000

// credentialsRequest is the body of POST /api/v1/credentials.
type credentialsRequest struct {
	Pool            string `json:"pool"`
	Provider        string `json:"provider,omitempty"`
	RoleARN         string `json:"role_arn,omitempty"`
	DurationSeconds int    `json:"duration_seconds,omitempty"`
}

// credentialsResponse is the JSON form of vended credentials.
type credentialsResponse struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token"`
	Expiration      string `json:"expiration"`
	RoleARN         string `json:"role_arn"`
	AssumedRoleARN  string `json:"assumed_role_arn"`
	IdentityID      string `json:"identity_id"`
}

func apiCredentials(c *exchange.Credentials, identityID string) credentialsResponse {
	return credentialsResponse{
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Expiration: c.Expiration.UTC().Format(time.RFC3339), RoleARN: c.RoleARN, AssumedRoleARN: c.AssumedRoleARN,
		IdentityID: identityID,
	}
}

// apiCredentials: an app presents an upstream ID token and gets
// credentials for a role the pool's rules give it.
func (s *Server) apiCredentials(c *gin.Context) {
	// saml (issue 3): without a bearer token the body may carry a SAML response.
	if c.GetHeader("Authorization") == "" && s.apiSAMLCredentials(c) {
		return
	}
	token, e := bearerToken(c)
	if e != nil {
		s.failBearer(c, e)
		return
	}
	var req credentialsRequest
	if e := httpkit.DecodeJSON(c, &req); e != nil {
		s.kit.Fail(c, e)
		return
	}
	if req.Pool == "" {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The body must name a pool."))
		return
	}
	pool, e := s.core.LookupPool(req.Pool)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: pool.Cfg.ID, Provider: req.Provider, Role: req.RoleARN}) // audit_refusals.go
	prov, e := tokenProvider(pool, req.Provider, token)
	if e != nil {
		s.failBearer(c, e)
		return
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Provider: prov.Cfg.ID})
	ident, err := prov.Provider.(idp.TokenVerifier).VerifyToken(c.Request.Context(), token)
	if err != nil {
		s.failBearer(c, core.FromIdP(err))
		return
	}
	p := &core.Principal{Pool: pool, Provider: prov, Ident: ident}
	g, e := core.PickGrant(p, p.Entitlements(), req.RoleARN)
	if e != nil {
		s.core.AuditRefusal(c.Request.Context(), p, req.RoleARN, e) // admin (issue 6)
		s.kit.Fail(c, e)
		return
	}
	creds, id, e := s.core.Vend(c.Request.Context(), p, g, req.DurationSeconds)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	httpkit.NoCache(c)
	c.JSON(http.StatusOK, apiCredentials(creds, id))
}

// failBearer answers a refusal of the bearer token; a 401 carries the
// RFC 6750 challenge, with error="invalid_token" when a token was sent.
func (s *Server) failBearer(c *gin.Context, e *core.Error) {
	if e.Status == http.StatusUnauthorized {
		challenge := `Bearer realm="fedgate"`
		if e.Code != core.CodeUnauthorized {
			challenge += `, error="invalid_token"`
		}
		c.Header("WWW-Authenticate", challenge)
	}
	s.kit.Fail(c, e)
}

func bearerToken(c *gin.Context) (string, *core.Error) {
	h := c.GetHeader("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", core.Errorf(http.StatusUnauthorized, core.CodeUnauthorized, "Send the identity provider's ID token as 'Authorization: Bearer <token>'.")
	}
	token = strings.TrimSpace(token)
	if len(token) > maxBearerBytes {
		return "", core.Errorf(http.StatusUnauthorized, core.CodeInvalidToken, "The bearer token is too long.")
	}
	return token, nil
}

// tokenProvider picks the pool's provider that should verify the token:
// the one named, or the one whose issuer the token claims (the claim is
// only a hint here; verification checks it).
func tokenProvider(pool *core.Pool, named, token string) (*core.Provider, *core.Error) {
	if named != "" {
		p := pool.Provider(named)
		if p == nil {
			return nil, core.Errorf(http.StatusBadRequest, core.CodeUnknownProvider, "The pool does not accept the provider %q.", core.Truncate(named, 64))
		}
		if _, ok := p.Provider.(idp.TokenVerifier); !ok {
			return nil, core.Errorf(http.StatusBadRequest, core.CodeUnknownProvider, "The provider %q does not accept bearer tokens.", named)
		}
		return p, nil
	}
	iss := unverifiedIssuer(token)
	for _, p := range pool.Providers {
		if _, ok := p.Provider.(idp.TokenVerifier); ok && iss != "" && strings.TrimRight(p.Cfg.Issuer, "/") == strings.TrimRight(iss, "/") {
			return p, nil
		}
	}
	return nil, core.Errorf(http.StatusUnauthorized, core.CodeInvalidToken, "The token's issuer is not an identity provider of this pool.")
}

// unverifiedIssuer reads iss from a JWT payload without trusting it.
func unverifiedIssuer(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Iss
}
