package gateway

import (
	"context"
	"strings"
	"testing"

	"fedgate/gateway/core"
)

// fedgate mappings apply refuses a provider key its type does not have: a
// misspelt setting (allowed_algorithm) must not be dropped silently while
// the operator believes it is in force.
func TestPlanMappingsRefusesUnknownProviderKey(t *testing.T) {
	h := newAdminHarness(t)
	var export strings.Builder
	if _, err := core.ExportMappings(context.Background(), h.store, h.box, &export); err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(export.String(), "  - id: app\n", "  - id: app\n    allowed_algorithm: [ES256]\n", 1)
	if edited == export.String() {
		t.Fatalf("fixture changed:\n%s", export.String())
	}
	plan, err := core.PlanMappings(context.Background(), h.store, h.box, h.cfg, strings.NewReader(edited))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range plan.Problems {
		found = found || (strings.HasSuffix(p.Path, ".allowed_algorithm") && strings.Contains(p.Message, "not found"))
	}
	if !found {
		t.Errorf("an unknown provider key was accepted: problems %v", plan.Problems)
	}
}
