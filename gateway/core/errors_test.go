package core

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"fedgate/gateway/store"
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

func TestAsStoreOutage(t *testing.T) {
	unreachable := &store.Error{Op: "LookupIdentity", Kind: store.ErrUnavailable, Err: errors.New("dial tcp: connection refused")}
	full := &store.Error{Op: "AppendAudit", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		name       string
		in         *Error
		wantStatus int
		wantCode   string
	}{
		{"unreachable store behind a 500", Internal(errors.Join(errors.New("identity"), unreachable)), 503, CodeStoreUnavailable},
		{"a surface's own 500", NewError(500, "server_error", "x", fmt.Errorf("take: %w", unreachable)), 503, CodeStoreUnavailable},
		{"full disk", NewError(500, CodeInternal, "x", full), 503, CodeStoreUnavailable},
		{"other 500", NewError(500, CodeInternal, "x", errors.New("bug")), 500, CodeInternal},
		{"a refusal keeps its status", NewError(400, CodeInvalidRequest, "x", unreachable), 400, CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AsStoreOutage(tc.in)
			if got.Status != tc.wantStatus || got.Code != tc.wantCode {
				t.Fatalf("AsStoreOutage = %d %s, want %d %s", got.Status, got.Code, tc.wantStatus, tc.wantCode)
			}
			if tc.wantStatus == 503 && got.RetryAfter <= 0 {
				t.Errorf("no Retry-After")
			}
			if tc.wantStatus == 503 && strings.Contains(got.Message, "refused") {
				t.Errorf("the public message leaks the cause: %q", got.Message)
			}
		})
	}
}
