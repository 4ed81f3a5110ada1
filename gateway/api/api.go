// Package api is the JSON API for apps: POST /api/v1/credentials with the
// user's ID token (Authorization: Bearer) or SAML response (in the body).
package api

import (
	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
)

// API serves the JSON API.
type API struct {
	core *core.Core
	kit  *httpkit.Kit
}

// New builds the JSON API over the core.
func New(c *core.Core, kit *httpkit.Kit) *API { return &API{core: c, kit: kit} }

// Mount adds the API's routes; every refused request is audited.
func (s *API) Mount(r *gin.Engine) {
	r.POST("/api/v1/credentials", s.kit.AuditRefusals(store.AuditVend), s.credentials)
}
