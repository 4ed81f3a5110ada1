package admin

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc describes /admin/api/v1 (OpenAPI 3.0). A test checks that it
// names every admin API route and no other. A string, so nothing can change
// it.
//
//go:embed openapi.json
var openAPIDoc string

// openAPI serves the document; it holds nothing secret.
func openAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", []byte(openAPIDoc))
}
