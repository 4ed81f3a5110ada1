package gateway

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// adminOpenAPIDoc describes /admin/api/v1 (OpenAPI 3.0). A test checks that
// it names every admin API route and no other.
//
//go:embed admin_openapi.json
var adminOpenAPIDoc []byte

// adminOpenAPI serves the document; it holds nothing secret.
func (s *Server) adminOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", adminOpenAPIDoc)
}
