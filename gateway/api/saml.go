package api

// The JSON API with a SAML response: POST /api/v1/credentials
// without an Authorization header and with "saml_response" in the body.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/wire"
	"fedgate/idp"
)

// samlCredentials answers when the body carries a saml_response, and
// otherwise leaves the request (body restored) to the bearer-token path.
// The response is unsolicited from fedgate's point of view, so the
// provider must allow IdP-initiated responses; audience, recipient,
// signature, time window and the replay cache apply as in the browser.
func (s *API) samlCredentials(c *gin.Context) bool {
	if c.ContentType() != "application/json" {
		return false
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		if httpkit.IsTooLarge(err) {
			s.kit.Fail(c, core.NewError(http.StatusRequestEntityTooLarge, core.CodeTooLarge, "The request body is too large.", err))
			return true
		}
		s.kit.Fail(c, core.NewError(http.StatusBadRequest, core.CodeInvalidRequest, "The request body could not be read.", err))
		return true
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	var probe struct {
		SAMLResponse string `json:"saml_response"`
	}
	if json.Unmarshal(body, &probe) != nil || probe.SAMLResponse == "" {
		return false
	}
	var req wire.SAMLCredentialsRequest
	if e := httpkit.DecodeJSON(c, &req); e != nil {
		s.kit.Fail(c, e)
		return true
	}
	if req.Pool == "" {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The body must name a pool."))
		return true
	}
	pool, e := s.core.LookupPool(req.Pool)
	if e != nil {
		s.kit.Fail(c, e)
		return true
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: pool.Cfg.ID, Provider: req.Provider, Role: req.RoleARN})
	prov, e := core.SAMLProviderOf(pool, req.Provider)
	if e != nil {
		s.kit.Fail(c, e)
		return true
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Provider: prov.Cfg.ID})
	ident, err := prov.Provider.(idp.AssertionLogin).ConsumeResponse(c.Request.Context(), req.SAMLResponse, nil)
	if err != nil {
		s.kit.Fail(c, core.FromSAML(err))
		return true
	}
	p := &core.Principal{Pool: pool, Provider: prov, Ident: ident}
	creds, id, e := s.core.Grant(c.Request.Context(), p, req.RoleARN, req.DurationSeconds)
	if e != nil {
		s.kit.Fail(c, e)
		return true
	}
	httpkit.NoCache(c)
	c.JSON(http.StatusOK, core.WireCredentials(creds, id))
	return true
}
