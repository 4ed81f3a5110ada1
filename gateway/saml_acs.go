package gateway

// SAML browser sign-in: the AuthnRequest redirect, the assertion
// consumer service (ACS) and the metadata fedgate publishes.

import (
	"context"
	"errors"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"fedgate/idp"
)

// stateShape is what beginFlow's states look like; any other RelayState
// is an IdP's own (IdP-initiated) and names no flow.
var stateShape = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *Server) samlRoutes(r *gin.Engine) {
	r.POST("/saml/acs/:provider", s.samlACS)
	r.GET("/saml/metadata/:provider", s.samlSPMetadata)
	r.GET("/saml/idp/metadata", s.samlIdPMetadata)
}

// startSAMLLogin sends the browser to the IdP with an AuthnRequest
// (HTTP-Redirect binding, RelayState = the flow's state) and binds the
// request's ID to the flow, so only the answer to it is accepted.
func (s *Server) startSAMLLogin(c *gin.Context, p idp.AssertionLogin, state string) {
	ctx := c.Request.Context()
	if r, ok := p.(readiness); ok {
		if err := r.Ready(ctx); err != nil {
			s.fail(c, fromSAML(err))
			return
		}
	}
	var redirect, requestID string
	var err error
	if pc, ok := p.(authnRequestContext); ok {
		redirect, requestID, err = pc.AuthnRequestURLContext(ctx, idp.Flow{State: state})
	} else {
		redirect, requestID, err = p.AuthnRequestURL(idp.Flow{State: state})
	}
	if err != nil {
		s.fail(c, fromSAML(err))
		return
	}
	// The flow was stored a moment ago by beginFlow; store it again with
	// the request id (take + put: entries are never updated in place).
	var f loginFlow
	if err := s.takeSealed(ctx, kindFlow, state, &f); err != nil {
		s.fail(c, internalError(err))
		return
	}
	f.SAMLRequestID = requestID
	if err := s.putSealed(ctx, kindFlow, state, f, flowLifetime); err != nil {
		s.fail(c, internalError(err))
		return
	}
	noCache(c)
	c.Redirect(http.StatusFound, redirect)
}

// authnRequestContext is implemented by providers whose AuthnRequestURL
// can take the request's context (the idp/saml provider).
type authnRequestContext interface {
	AuthnRequestURLContext(ctx context.Context, f idp.Flow) (string, string, error)
}

type samlPostPage struct {
	page
	Action, SAMLResponse, RelayState string
}

// samlACS consumes the IdP's HTTP-POST response. It is a cross-site POST,
// so no Origin check applies; what binds it to this browser is the flow
// (RelayState + cookie) and the AuthnRequest ID it must answer.
func (s *Server) samlACS(c *gin.Context) {
	prov, al, e := s.samlProvider(c.Param("provider"))
	if e != nil {
		s.fail(c, e)
		return
	}
	noteAudit(c.Request.Context(), auditNote{provider: prov.cfg.ID}) // audit_refusals.go
	if err := c.Request.ParseForm(); err != nil {
		s.fail(c, formError(err))
		return
	}
	resp, relay := c.PostForm("SAMLResponse"), c.PostForm("RelayState")
	if resp == "" {
		s.fail(c, errorf(http.StatusBadRequest, CodeInvalidRequest, "The identity provider's answer has no SAMLResponse. Start again from the fedgate start page."))
		return
	}
	if !stateShape.MatchString(relay) {
		s.samlUnsolicited(c, prov, al, resp)
		return
	}
	// A browser does not send SameSite=Lax cookies on a cross-site POST:
	// post the same form again from this origin, where it does.
	if s.cookie(c, flowCookieName(relay)) == "" && c.PostForm("fedgate_resubmit") == "" {
		s.render(c, http.StatusOK, "saml_post", samlPostPage{
			page:   page{Title: "Signing you in", RequestID: requestID(c)},
			Action: c.Request.URL.Path, SAMLResponse: resp, RelayState: relay,
		}, true)
		return
	}
	f, e := s.takeFlow(c, relay)
	if e != nil {
		s.fail(c, e)
		return
	}
	noteAudit(c.Request.Context(), auditNote{pool: f.Pool, adminSignIn: f.Admin}) // audit_refusals.go
	if f.Provider != prov.cfg.ID || f.SAMLRequestID == "" {
		s.fail(c, errorf(http.StatusBadRequest, CodeFlowExpired, "This sign-in belongs to another identity provider. Start again."))
		return
	}
	if f.Admin {
		s.fail(c, errorf(http.StatusBadRequest, CodeUnknownProvider, "Admin sign-in through a SAML identity provider is not supported; use an OIDC provider."))
		return
	}
	pool, lp, e := s.flowTarget(f)
	if e != nil {
		s.fail(c, e)
		return
	}
	ident, err := al.ConsumeResponse(c.Request.Context(), resp, []string{f.SAMLRequestID})
	if err != nil {
		s.fail(c, fromSAML(err))
		return
	}
	p := &principal{pool: pool, provider: lp, ident: ident}
	if f.CLI != nil {
		s.completeCLISignIn(c, f.CLI, p)
		return
	}
	s.completeSignIn(c, p)
}

// samlUnsolicited handles an IdP-initiated response: the provider refuses
// it unless allow_idp_initiated is on, and it lands in the one pool that
// accepts the provider.
func (s *Server) samlUnsolicited(c *gin.Context, prov *liveProvider, al idp.AssertionLogin, resp string) {
	var pools []*livePool
	for _, p := range s.snap.Load().ordered {
		if p.provider(prov.cfg.ID) != nil {
			pools = append(pools, p)
		}
	}
	if len(pools) == 1 {
		noteAudit(c.Request.Context(), auditNote{pool: pools[0].cfg.ID}) // audit_refusals.go
	}
	if prov.cfg.AllowIdPInitiated && len(pools) != 1 {
		s.fail(c, errorf(http.StatusBadRequest, CodeInvalidRequest, "Several pools accept this identity provider, so a sign-in started at the provider cannot choose one. Start from the fedgate start page."))
		return
	}
	ident, err := al.ConsumeResponse(c.Request.Context(), resp, nil)
	if err != nil {
		s.fail(c, fromSAML(err))
		return
	}
	if len(pools) != 1 { // unreachable unless the provider ignored allow_idp_initiated
		s.fail(c, errorf(http.StatusBadRequest, CodeInvalidRequest, "Start from the fedgate start page."))
		return
	}
	s.completeSignIn(c, &principal{pool: pools[0], provider: pools[0].provider(prov.cfg.ID), ident: ident})
}

func (s *Server) samlProvider(id string) (*liveProvider, idp.AssertionLogin, *Error) {
	prov := s.snap.Load().providers[id]
	if prov != nil {
		if al, ok := prov.Provider.(idp.AssertionLogin); ok {
			return prov, al, nil
		}
	}
	return nil, nil, errorf(http.StatusNotFound, CodeUnknownProvider, "There is no SAML identity provider %q on this gateway.", truncate(id, 64))
}

// samlSPMetadata serves fedgate's SP metadata for one provider: what the
// admin hands to the IdP.
func (s *Server) samlSPMetadata(c *gin.Context) {
	_, al, e := s.samlProvider(c.Param("provider"))
	if e != nil {
		s.fail(c, e)
		return
	}
	b, err := al.SPMetadata()
	if err != nil {
		s.fail(c, internalError(err))
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/samlmetadata+xml", b)
}

// samlIdPMetadata serves the broker's IdP metadata: what IAM needs
// (aws iam create-saml-provider). Every published certificate is in it,
// so a rotation overlaps.
func (s *Server) samlIdPMetadata(c *gin.Context) {
	b, err := s.SAMLBrokerMetadata(c.Request.Context())
	if err != nil {
		s.fail(c, internalError(err))
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/samlmetadata+xml", b)
}

// fromSAML maps a SAML provider's refusal to a public error; the private
// cause (which check failed) goes to the operator's log only.
func fromSAML(err error) *Error {
	switch {
	case errors.Is(err, idp.ErrTooLarge):
		return newError(http.StatusRequestEntityTooLarge, CodeTooLarge, "The SAML response is too large.", err)
	case errors.Is(err, idp.ErrReplay):
		return newError(http.StatusBadRequest, CodeInvalidToken, "This SAML response was already used. Sign in again.", err)
	case errors.Is(err, idp.ErrUnsolicited):
		return newError(http.StatusBadRequest, CodeInvalidToken, "fedgate did not start this sign-in, and this identity provider does not accept sign-ins started at the provider. Start from the fedgate start page.", err)
	case errors.Is(err, idp.ErrExpiredToken):
		return newError(http.StatusUnauthorized, CodeExpiredToken, "The SAML response has expired or is not yet valid. Sign in again.", err)
	case errors.Is(err, idp.ErrUpstream), errors.Is(err, idp.ErrUnsupportedFlow), errors.Is(err, idp.ErrInvalidConfig):
		return fromIdP(err)
	default:
		return newError(http.StatusUnauthorized, CodeInvalidToken, "The identity provider's SAML response is not valid for this gateway.", err)
	}
}
