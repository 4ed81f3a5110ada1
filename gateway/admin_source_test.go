package gateway

import (
	"net/http"
	"strings"
	"testing"

	"fedgate/gateway/config"
)

// With mappings.source: file the admin API refuses every change with a
// message that says why and offers the YAML export, and nothing is stored.
func TestAdminReadOnlyWhenMappingsComeFromTheFile(t *testing.T) {
	h := newGWHarness(t, withAdmin, func(f *config.File) { f.MappingsSource.Source = config.MappingsFromFile })
	before := h.state()
	w := h.adminCall(http.MethodPost, "/admin/api/v1/pools/team/rules",
		`{"name":"sales","match":[{"claim":"groups","op":"equals","value":"sales"}],"role":"`+gwSolo+`"}`, "If-Match", h.adminCall(http.MethodGet, "/admin/api/v1/mappings", "").Header().Get("ETag"))
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), `"mappings_from_file"`) || !strings.Contains(w.Body.String(), "mappings.source: file") ||
		!strings.Contains(w.Body.String(), "export") {
		t.Errorf("a change with source file: HTTP %d %s", w.Code, w.Body)
	}
	if after := h.state(); after != before {
		t.Errorf("a refused change stored something: %+v -> %+v", before, after)
	}
	exp := h.adminCall(http.MethodGet, "/admin/api/v1/mappings/export", "")
	if exp.Code != http.StatusOK || !strings.HasPrefix(exp.Body.String(), "# fedgate mappings, version 1") || !strings.Contains(exp.Body.String(), "pools:") {
		t.Errorf("export: HTTP %d %s", exp.Code, exp.Body)
	}
}
