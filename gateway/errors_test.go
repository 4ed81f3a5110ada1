package gateway

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// Made-up methods cannot create metric series without bound.
func TestMetricsMethodLabelIsBounded(t *testing.T) {
	h := newGWHarness(t)
	for i := range 50 {
		req := httptest.NewRequest("X"+strconv.Itoa(i)+strings.Repeat("A", 100), "/", nil)
		h.do(req)
	}
	body := h.do(httptest.NewRequest(http.MethodGet, "/metrics", nil)).Body.String()
	if strings.Contains(body, "AAAA") || !strings.Contains(body, `method="OTHER"`) {
		t.Errorf("made-up methods reached the metric labels:\n%.2000s", body)
	}
}
