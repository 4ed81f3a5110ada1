package admin

import (
	"encoding/json"
	"strings"
	"testing"

	"fedgate/idp/registry"
	"fedgate/idp/settings"
)

// The provider schemas follow the registered types: one per type, with
// every setting, and secrets described as write-only.
func TestOpenAPIProviderSchemasFollowTheRegistry(t *testing.T) {
	raw, err := openAPIDoc()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				OneOf      []map[string]string       `json:"oneOf"`
				Properties map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := len(doc.Components.Schemas["Provider"].OneOf), len(registry.Types()); got != want {
		t.Fatalf("Provider is one of %d schemas, want %d", got, want)
	}
	for _, typ := range registry.Types() {
		schema, ok := doc.Components.Schemas["Provider_"+typ.Name]
		if !ok {
			t.Fatalf("no schema for %s providers", typ.Name)
		}
		for _, f := range settings.Fields(typ.New()) {
			prop, ok := schema.Properties[f.Key]
			if !ok {
				t.Errorf("%s: %s is not in the schema", typ.Name, f.Key)
				continue
			}
			if desc, _ := prop["description"].(string); f.Secret && !strings.Contains(desc, "Write-only") {
				t.Errorf("%s: the secret %s is not described as write-only: %q", typ.Name, f.Key, desc)
			}
		}
	}
}
