package exchange

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestNewSTSError(t *testing.T) {
	tests := []struct {
		code      string
		status    int
		retryable bool
		outage    bool
	}{
		{CodeInvalidIdentityToken, http.StatusUnauthorized, false, false},
		{CodeExpiredToken, http.StatusUnauthorized, false, false},
		{CodeIDPRejectedClaim, http.StatusForbidden, false, false},
		{CodeIDPCommunicationError, http.StatusBadGateway, true, false},
		{CodeAccessDenied, http.StatusForbidden, false, false},
		{CodePackedPolicyTooLarge, http.StatusBadRequest, false, false},
		{CodeMalformedPolicyDocument, http.StatusBadRequest, false, false},
		{CodeRegionDisabled, http.StatusForbidden, false, false},
		{CodeThrottling, http.StatusServiceUnavailable, true, true},
		{CodeValidationError, http.StatusBadRequest, false, false},
		{CodeNetwork, http.StatusServiceUnavailable, true, true},
		{CodeUnavailable, http.StatusServiceUnavailable, true, true},
		{"BrandNewCode", http.StatusBadGateway, false, false},
	}
	cause := errors.New("private detail from STS")
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			e := NewSTSError(tt.code, cause)
			if e.Status != tt.status || e.Retryable != tt.retryable || e.Code != tt.code || e.Outage != tt.outage || (e.RetryAfter > 0) != tt.outage {
				t.Fatalf("got %+v", e)
			}
			if e.PublicMessage() == "" || e.PublicMessage() == cause.Error() {
				t.Fatalf("public message %q", e.PublicMessage())
			}
			if e.Error() != "sts: "+tt.code+": private detail from STS" {
				t.Fatalf("Error() = %q", e.Error())
			}
			if !errors.Is(e, cause) {
				t.Fatal("cause not unwrapped")
			}
		})
	}
}

func TestCircuitOpenError(t *testing.T) {
	e := NewCircuitOpenError(3*time.Second, errors.New("breaker open"))
	if e.Status != http.StatusServiceUnavailable || !e.Retryable || !e.Outage || e.RetryAfter != 3*time.Second || e.Code != CodeCircuitOpen {
		t.Fatalf("got %+v", e)
	}
}
