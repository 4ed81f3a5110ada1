package oidc

import (
	"context"
	"strings"
	"testing"
)

// FuzzVerifyToken feeds arbitrary strings to VerifyToken: it must never
// panic and, lacking the IdP's private key, never accept one.
func FuzzVerifyToken(f *testing.F) {
	_, op, p := newTestSetup(f, nil)

	valid := op.rsa.Sign(f, op.claims())
	parts := strings.Split(valid, ".")
	f.Add("")
	f.Add("a.b.c")
	f.Add(parts[0] + "." + parts[1] + ".")                 // signature stripped
	f.Add(parts[0] + "." + parts[1] + "." + parts[2][:20]) // signature truncated
	f.Add(parts[0] + "." + parts[1] + "x." + parts[2])     // payload altered
	f.Add(unsignedJWT(f, op.claims()))                     // alg none
	f.Add(`{"payload":"e30","signatures":[]}`)             // JSON serialization
	f.Add(strings.Repeat("A", maxTokenBytes+1))            // oversized

	f.Fuzz(func(t *testing.T, raw string) {
		id, err := p.VerifyToken(context.Background(), raw)
		if err == nil || id != nil {
			t.Fatalf("VerifyToken accepted %q", raw)
		}
	})
}
