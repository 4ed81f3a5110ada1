package gateway

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"InvalidIdentityToken":    "invalid_identity_token",
		"IDPRejectedClaim":        "idp_rejected_claim",
		"IDPCommunicationError":   "idp_communication_error",
		"AccessDenied":            "access_denied",
		"ExpiredTokenException":   "expired_token_exception",
		"NetworkError":            "network_error",
		"Throttling":              "throttling",
		"PackedPolicyTooLarge":    "packed_policy_too_large",
		"RegionDisabledException": "region_disabled_exception",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

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
