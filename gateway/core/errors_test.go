package core

import (
	"testing"

	"fedgate/gateway/testkit"
)

func TestSnakeCase(t *testing.T) {
	testkit.StringFunc(t, "snakeCase", snakeCase, map[string]string{
		"InvalidIdentityToken":    "invalid_identity_token",
		"IDPRejectedClaim":        "idp_rejected_claim",
		"IDPCommunicationError":   "idp_communication_error",
		"AccessDenied":            "access_denied",
		"ExpiredTokenException":   "expired_token_exception",
		"NetworkError":            "network_error",
		"Throttling":              "throttling",
		"PackedPolicyTooLarge":    "packed_policy_too_large",
		"RegionDisabledException": "region_disabled_exception",
	})
}
