package oidc

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
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

// FuzzParseJWKS feeds arbitrary JWK sets (fetched from the IdP, so
// untrusted) to parseJWKS: it must never panic, and every key it keeps
// must be a valid public signing key.
func FuzzParseJWKS(f *testing.F) {
	_, op, _ := newTestSetup(f, nil)
	good, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{op.rsa.Public(), op.ec.Public()}})
	if err != nil {
		f.Fatal(err)
	}
	private, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: op.rsa.Key, KeyID: "priv", Algorithm: "RS256"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(private)
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"hs"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":"not a list"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := parseJWKS(body)
		if err != nil && keys != nil {
			t.Fatal("keys returned with an error")
		}
		for _, k := range keys {
			if !k.IsPublic() || !k.Valid() || k.Use == "enc" {
				t.Fatalf("kept an unusable key: %+v", k)
			}
		}
	})
}
