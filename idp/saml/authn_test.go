package saml

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	crewsaml "github.com/crewjam/saml"

	"fedgate/idp"
)

// TestSAMLAuthnRequestIDFromInjectedRand: the AuthnRequest ID comes from
// the configured random source, and it is the ID inside the encoded (and
// signed) request, not only the one returned.
func TestSAMLAuthnRequestIDFromInjectedRand(t *testing.T) {
	seq := bytes.Repeat([]byte{0xab}, 20)
	f := newSAMLFixture(t, func(c *Config) { c.Rand = bytes.NewReader(seq) })
	raw, id, err := f.sp.AuthnRequestURLContext(context.Background(), idp.Flow{State: "st-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := "id-" + strings.Repeat("ab", 20)
	if id != want {
		t.Fatalf("request id %q, want %q", id, want)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if req := redirectAuthnRequest(t, u.Query().Get("SAMLRequest")); req.ID != want {
		t.Fatalf("encoded request ID %q, want %q", req.ID, want)
	}
	// The source is exhausted: no ID, no request (never a fallback).
	if _, _, err := f.sp.AuthnRequestURL(idp.Flow{State: "st-2"}); err == nil {
		t.Fatal("a request was made without randomness")
	}
	broken := newSAMLFixture(t, func(c *Config) { c.Rand = iotest.ErrReader(errors.New("no entropy")) })
	if _, _, err := broken.sp.AuthnRequestURL(idp.Flow{State: "st-3"}); err == nil || !strings.Contains(err.Error(), "no entropy") {
		t.Fatalf("broken random source: %v", err)
	}
}

// redirectAuthnRequest decodes the SAMLRequest parameter of the redirect
// binding: base64, then raw DEFLATE, then XML.
func redirectAuthnRequest(t testing.TB, param string) crewsaml.AuthnRequest {
	t.Helper()
	deflated, err := base64.StdEncoding.DecodeString(param)
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), 64<<10))
	if err != nil {
		t.Fatal(err)
	}
	var req crewsaml.AuthnRequest
	if err := xml.Unmarshal(inflated, &req); err != nil {
		t.Fatal(err)
	}
	return req
}
