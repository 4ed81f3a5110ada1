package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/wire"
)

// credentials: an app presents an upstream ID token and gets
// credentials for a role the pool's rules give it.
func (s *API) credentials(c *gin.Context) {
	// Without a bearer token the body may carry a SAML response.
	if c.GetHeader("Authorization") == "" && s.samlCredentials(c) {
		return
	}
	token, e := bearerToken(c)
	if e != nil {
		s.failBearer(c, e)
		return
	}
	var req wire.CredentialsRequest
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
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: pool.Cfg.ID, Provider: req.Provider, Role: req.RoleARN})
	prov, e := core.TokenProvider(pool, req.Provider, token)
	if e != nil {
		s.failBearer(c, e)
		return
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Provider: prov.Cfg.ID})
	ident, err := s.core.VerifyToken(c.Request.Context(), prov, token)
	if err != nil {
		s.failBearer(c, core.FromIdP(err))
		return
	}
	p := &core.Principal{Pool: pool, Provider: prov, Ident: ident}
	creds, id, e := s.core.Grant(c.Request.Context(), p, req.RoleARN, req.DurationSeconds)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	httpkit.NoCache(c)
	c.JSON(http.StatusOK, core.WireCredentials(creds, id))
}

// failBearer answers a refusal of the bearer token; a 401 carries the
// RFC 6750 challenge, with error="invalid_token" when a token was sent.
func (s *API) failBearer(c *gin.Context, e *core.Error) {
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
	if len(token) > core.MaxTokenBytes {
		return "", core.Errorf(http.StatusUnauthorized, core.CodeInvalidToken, "The bearer token is too long.")
	}
	return token, nil
}
