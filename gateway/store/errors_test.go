package store

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestErrorIsAndPublic(t *testing.T) {
	cause := errors.New("driver: disk I/O error near secret-value")
	tests := []struct {
		name       string
		err        error
		is         []error
		isNot      []error
		wantPublic string
	}{
		{"conflict with cause", newError("PutConfig", ErrConflict, cause), []error{ErrConflict, cause}, []error{ErrNotFound}, "conflict"},
		{"not found", newError("LookupIdentity", ErrNotFound, nil), []error{ErrNotFound}, []error{ErrConflict}, "not found"},
		{"backend failure", newError("Ping", nil, context.Canceled), []error{context.Canceled}, []error{ErrNotFound, ErrConflict, ErrInvalid}, "storage unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, target := range tt.is {
				if !errors.Is(tt.err, target) {
					t.Errorf("errors.Is(%v, %v) = false", tt.err, target)
				}
			}
			for _, target := range tt.isNot {
				if errors.Is(tt.err, target) {
					t.Errorf("errors.Is(%v, %v) = true", tt.err, target)
				}
			}
			var se *Error
			if !errors.As(tt.err, &se) {
				t.Fatal("not a *Error")
			}
			if got := se.Public(); got != tt.wantPublic || strings.Contains(got, "secret") {
				t.Errorf("Public() = %q, want %q", got, tt.wantPublic)
			}
			if !strings.HasPrefix(tt.err.Error(), "store: "+se.Op) {
				t.Errorf("Error() = %q, want it to name the operation", tt.err.Error())
			}
		})
	}
}

func TestEphemeralKeyHash(t *testing.T) {
	tests := []struct {
		name        string
		kindA, keyA string
		kindB, keyB string
		wantSame    bool
	}{
		{"same input", "flow", "abc", "flow", "abc", true},
		{"different key", "flow", "abc", "flow", "abd", false},
		{"different kind", "flow", "abc", "session", "abc", false},
		{"boundary shift", "ab", "c", "a", "bc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := EphemeralKeyHash(tt.kindA, tt.keyA), EphemeralKeyHash(tt.kindB, tt.keyB)
			if (a == b) != tt.wantSame {
				t.Errorf("hash(%q,%q)=%s hash(%q,%q)=%s, same=%v want %v", tt.kindA, tt.keyA, a, tt.kindB, tt.keyB, b, a == b, tt.wantSame)
			}
			if raw, err := hex.DecodeString(a); err != nil || len(raw) != 32 {
				t.Errorf("hash %q is not SHA-256 hex", a)
			}
		})
	}
}
