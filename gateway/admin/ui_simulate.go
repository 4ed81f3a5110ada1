package admin

// The simulate page: claims, an ID token or a SAML response through the
// live rules of a pool, explained.

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
)

// simulatePage is the simulate form and, after a post, its result.
type simulatePage struct {
	page
	Pools        []choice
	ClaimsText   string
	IDToken      string
	Error        string
	Result       *SimResult
	ClaimsPretty string
	// SAMLProviders to pick from for a pasted SAML response.
	SAMLProviders []choice
}

func (s *Admin) uiSimulate(c *gin.Context) {
	data := simulatePage{page: s.pageFor(c, "Simulate", "simulate")}
	pool := c.PostForm("pool")
	if pool == "" {
		pool = c.Query("pool")
	}
	snap := s.core.Snapshot()
	for _, p := range snap.Ordered {
		data.Pools = append(data.Pools, choice{Value: p.Cfg.Name, Label: p.Cfg.DisplayName + " (" + p.Cfg.Name + ")", Selected: p.Cfg.Name == pool})
	}
	data.SAMLProviders = samlProviderChoices(snap, c.PostForm("saml_provider"))
	data.ClaimsText = c.PostForm("claims")
	if data.ClaimsText == "" {
		data.ClaimsText = "{\n  \"sub\": \"user-123\",\n  \"email\": \"someone@example.com\",\n  \"groups\": [\"engineering\"]\n}"
	}
	status := http.StatusOK
	if c.Request.Method == http.MethodPost {
		req := simulateRequest{Pool: pool}
		if tok := strings.TrimSpace(c.PostForm("id_token")); tok != "" && c.PostForm("input") == "token" {
			req.IDToken = tok
		} else if resp := strings.TrimSpace(c.PostForm("saml_response")); resp != "" && c.PostForm("input") == "saml" {
			req.SAMLResponse, req.Provider = resp, c.PostForm("saml_provider")
		} else {
			claims, e := parseClaims(data.ClaimsText)
			if e != nil {
				data.Error, status = e.Message, e.Status
			}
			req.Claims = claims
		}
		if data.Error == "" {
			res, e := s.simulate(c.Request.Context(), req)
			if e != nil {
				data.Error, status = e.Message, e.Status
			} else {
				data.Result = res
				data.ClaimsPretty = core.MustJSON(res.Claims)
			}
		}
	}
	s.kit.Render(c, status, "admin_simulate", data, true)
}
