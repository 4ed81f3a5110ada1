package admin

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/idp/registry"
	"fedgate/idp/settings"
)

// openAPIBase describes /admin/api/v1 (OpenAPI 3.0) except the provider
// schemas, which openAPIDoc builds from the registered provider types. A
// test checks that the document names every admin API route and no other.
//
//go:embed openapi.json
var openAPIBase []byte

// openAPIDoc is the whole document: the base with a Provider schema per
// provider type, from the type's settings.
func openAPIDoc() ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIBase, &doc); err != nil {
		return nil, err
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var oneOf []any
	mapping := map[string]any{}
	for _, t := range registry.Types() {
		name := "Provider_" + t.Name
		props := map[string]any{
			"id":           map[string]any{"type": "string"},
			"type":         map[string]any{"type": "string", "enum": []any{t.Name}},
			"display_name": map[string]any{"type": "string"},
		}
		for _, f := range settings.Fields(t.New()) {
			props[f.Key] = fieldSchema(f)
		}
		schemas[name] = map[string]any{
			"type": "object", "description": t.Summary, "required": []any{"id", "type"},
			"properties": props, "additionalProperties": false,
		}
		ref := "#/components/schemas/" + name
		oneOf = append(oneOf, map[string]any{"$ref": ref})
		mapping[t.Name] = ref
	}
	schemas["Provider"] = map[string]any{"oneOf": oneOf, "discriminator": map[string]any{"propertyName": "type", "mapping": mapping}}
	return json.MarshalIndent(doc, "", "  ")
}

// fieldSchema is the JSON schema of one setting.
func fieldSchema(f settings.Field) map[string]any {
	s := map[string]any{}
	switch f.Kind {
	case settings.KindBool:
		s["type"] = "boolean"
	case settings.KindList:
		s["type"], s["items"] = "array", map[string]any{"type": "string"}
	case settings.KindOther:
		s["type"], s["items"] = "array", map[string]any{"type": "object"}
	default:
		s["type"] = "string"
	}
	desc := f.Help
	if f.Kind == settings.KindDuration {
		desc += " A duration such as 90s or 15m."
	}
	if f.Secret {
		desc += fmt.Sprintf(" Write-only: read back as %s; leaving it out or sending %s keeps the stored value, \"\" removes it.", core.SecretPlaceholder, core.SecretPlaceholder)
	}
	if desc != "" {
		s["description"] = desc
	}
	return s
}

// openAPI serves the document; it holds nothing secret.
func (s *Admin) openAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", s.openAPIDoc)
}
