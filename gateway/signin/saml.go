package signin

// SAML browser sign-in: the AuthnRequest redirect, the assertion
// consumer service (ACS) and the metadata fedgate publishes.

import (
	"context"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/idp"
)

// stateShape is what Begin's states look like; any other RelayState
// is an IdP's own (IdP-initiated) and names no flow.
var stateShape = regexp.MustCompile(`^[0-9a-f]{64}$`)

// startSAMLLogin sends the browser to the IdP with an AuthnRequest
// (HTTP-Redirect binding, RelayState = the flow's state) and binds the
// request's ID to the flow, so only the answer to it is accepted.
func (s *Service) startSAMLLogin(c *gin.Context, p idp.AssertionLogin, state string) {
	ctx := c.Request.Context()
	if err := ready(ctx, p); err != nil {
		s.kit.Fail(c, core.FromSAML(err))
		return
	}
	var redirect, requestID string
	var err error
	if pc, ok := p.(authnRequestContext); ok {
		redirect, requestID, err = pc.AuthnRequestURLContext(ctx, idp.Flow{State: state})
	} else {
		redirect, requestID, err = p.AuthnRequestURL(idp.Flow{State: state})
	}
	if err != nil {
		s.kit.Fail(c, core.FromSAML(err))
		return
	}
	// The flow was stored a moment ago by Begin; store it again with
	// the request id (take + put: entries are never updated in place).
	var f Flow
	if err := s.core.TakeSealed(ctx, kindFlow, state, &f); err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	f.SAMLRequestID = requestID
	if err := s.core.PutSealed(ctx, kindFlow, state, f, flowLifetime); err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	httpkit.NoCache(c)
	c.Redirect(http.StatusFound, redirect)
}

// authnRequestContext is implemented by providers whose AuthnRequestURL
// can take the request's context (the idp/saml provider).
type authnRequestContext interface {
	AuthnRequestURLContext(ctx context.Context, f idp.Flow) (string, string, error)
}

type samlPostPage struct {
	httpkit.Page
	Action, SAMLResponse, RelayState string
}

// samlACS consumes the IdP's HTTP-POST response. It is a cross-site POST,
// so no Origin check applies; what binds it to this browser is the flow
// (RelayState + cookie) and the AuthnRequest ID it must answer.
func (s *Service) samlACS(c *gin.Context) {
	prov, al, e := s.samlProvider(c.Param("provider"))
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Provider: prov.Cfg.ID})
	if err := c.Request.ParseForm(); err != nil {
		s.kit.Fail(c, httpkit.FormError(err))
		return
	}
	resp, relay := c.PostForm("SAMLResponse"), c.PostForm("RelayState")
	if resp == "" {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The identity provider's answer has no SAMLResponse. Start again from the fedgate start page."))
		return
	}
	if !stateShape.MatchString(relay) {
		s.samlUnsolicited(c, prov, al, resp)
		return
	}
	// A browser does not send SameSite=Lax cookies on a cross-site POST:
	// post the same form again from this origin, where it does.
	if s.kit.Cookie(c, FlowCookieName(relay)) == "" && c.PostForm("fedgate_resubmit") == "" {
		s.kit.Render(c, http.StatusOK, "saml_post", samlPostPage{
			Page:   httpkit.Page{Title: "Signing you in", RequestID: httpkit.RequestID(c)},
			Action: c.Request.URL.Path, SAMLResponse: resp, RelayState: relay,
		}, true)
		return
	}
	f, k, ok := s.resume(c, relay)
	if !ok {
		return
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: f.Pool, Kind: k.AuditKind})
	if f.Provider != prov.Cfg.ID || f.SAMLRequestID == "" {
		s.refuse(c, f, k, core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "This sign-in belongs to another identity provider. Start again."))
		return
	}
	if k.NoSAML != "" {
		s.refuse(c, f, k, core.Errorf(http.StatusBadRequest, core.CodeUnknownProvider, "%s", k.NoSAML))
		return
	}
	pool, lp, e := k.Target(f)
	if e != nil {
		s.refuse(c, f, k, e)
		return
	}
	ident, err := al.ConsumeResponse(c.Request.Context(), resp, []string{f.SAMLRequestID})
	if err != nil {
		s.refuse(c, f, k, core.FromSAML(err))
		return
	}
	k.Complete(c, f, pool, lp, ident)
}

// samlUnsolicited handles an IdP-initiated response: the provider refuses
// it unless allow_idp_initiated is on, and it lands in the one pool that
// accepts the provider.
func (s *Service) samlUnsolicited(c *gin.Context, prov *core.Provider, al idp.AssertionLogin, resp string) {
	var pools []*core.Pool
	for _, p := range s.core.Snapshot().Ordered {
		if p.Provider(prov.Cfg.ID) != nil {
			pools = append(pools, p)
		}
	}
	if len(pools) == 1 {
		core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: pools[0].Cfg.ID})
	}
	if u, ok := prov.Cfg.Settings.(idp.UnsolicitedConfig); ok && u.IdPInitiated() && len(pools) != 1 {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "Several pools accept this identity provider, so a sign-in started at the provider cannot choose one. Start from the fedgate start page."))
		return
	}
	ident, err := al.ConsumeResponse(c.Request.Context(), resp, nil)
	if err != nil {
		s.kit.Fail(c, core.FromSAML(err))
		return
	}
	if len(pools) != 1 { // unreachable unless the provider ignored allow_idp_initiated
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "Start from the fedgate start page."))
		return
	}
	k, e := s.continuation(&Flow{Kind: KindBrowser})
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	k.Complete(c, nil, pools[0], pools[0].Provider(prov.Cfg.ID), ident)
}

func (s *Service) samlProvider(id string) (*core.Provider, idp.AssertionLogin, *core.Error) {
	prov := s.core.Snapshot().Providers[id]
	if prov != nil {
		if al, ok := prov.Provider.(idp.AssertionLogin); ok {
			return prov, al, nil
		}
	}
	return nil, nil, core.Errorf(http.StatusNotFound, core.CodeUnknownProvider, "There is no SAML identity provider %q on this gateway.", core.Truncate(id, 64))
}

// samlSPMetadata serves fedgate's SP metadata for one provider: what the
// admin hands to the IdP.
func (s *Service) samlSPMetadata(c *gin.Context) {
	_, al, e := s.samlProvider(c.Param("provider"))
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	b, err := al.SPMetadata()
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/samlmetadata+xml", b)
}
