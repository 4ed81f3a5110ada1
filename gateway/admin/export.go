package admin

import (
	"bytes"
	"net/http"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
)

// apiExportMappings: GET /admin/api/v1/mappings/export, the live
// providers, pools and rules as the YAML of `fedgate mappings export`
// (secrets as the placeholder), for a file that mappings.source: file
// makes authoritative.
func (s *Admin) apiExportMappings(c *gin.Context) {
	var buf bytes.Buffer
	if _, err := core.ExportMappings(c.Request.Context(), s.store, s.box, &buf); err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	c.Header("Content-Disposition", `attachment; filename="fedgate-mappings.yaml"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/yaml; charset=utf-8", buf.Bytes())
}
