package exchange

import (
	"errors"
	"net/http"
	"testing"
)

func TestNewSTSError(t *testing.T) {
	tests := []struct {
		code      string
		status    int
		retryable bool
	}{
		{CodeInvalidIdentityToken, http.StatusUnauthorized, false},
		{CodeExpiredToken, http.StatusUnauthorized, false},
		{CodeIDPRejectedClaim, http.StatusForbidden, false},
		{CodeIDPCommunicationError, http.StatusBadGateway, true},
		{CodeAccessDenied, http.StatusForbidden, false},
		{CodePackedPolicyTooLarge, http.StatusBadRequest, false},
		{CodeMalformedPolicyDocument, http.StatusBadRequest, false},
		{CodeRegionDisabled, http.StatusForbidden, false},
		{CodeThrottling, http.StatusTooManyRequests, true},
		{CodeValidationError, http.StatusBadRequest, false},
		{CodeNetwork, http.StatusBadGateway, true},
		{"BrandNewCode", http.StatusBadGateway, false},
	}
	cause := errors.New("private detail from STS")
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			e := NewSTSError(tt.code, cause)
			if e.Status != tt.status || e.Retryable != tt.retryable || e.Code != tt.code {
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
