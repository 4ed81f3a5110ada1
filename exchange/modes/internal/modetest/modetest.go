// Package modetest holds the fakes and fixtures the exchange modes' tests
// share.
package modetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"fedgate/exchange"
	"fedgate/exchange/issuer"
	"fedgate/exchange/issuer/issuertest"
	"fedgate/exchange/secret"
	"fedgate/gateway/testkit"
	"fedgate/gateway/testkit/fakests"
)

// IssuerURL is the issuer NewIssuer mints as.
const IssuerURL = "https://fedgate.example.com"

// SAMLProviderARN is the IAM SAML provider of SAMLRequest.
const SAMLProviderARN = "arn:aws:iam::123456789012:saml-provider/fedgate"

// NewSTS is the test kit's recording STS answering with credentials the
// modes' tests recognise: web identity calls get ASIA plus the session
// name, SAML calls ASIASAML.
func NewSTS() *fakests.STS {
	return fakests.New(nil, func(_ int, in fakests.Input) exchange.Credentials {
		id := "ASIA" + in.SessionName
		if in.SAML {
			id = "ASIASAML"
		}
		return exchange.Credentials{AccessKeyID: id, SecretAccessKey: "s", SessionToken: "t"}
	})
}

// NewIssuer is an issuer at IssuerURL with in-memory keys.
func NewIssuer(t testing.TB) *issuer.Issuer {
	t.Helper()
	box, err := secret.NewBox(bytes.Repeat([]byte{3}, secret.KeySize), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := issuer.New(context.Background(), issuer.Options{
		URL:    IssuerURL,
		Keys:   &issuertest.KeyStore{},
		Sealer: box,
		Now:    testkit.NewClock(time.Now()).Now,
		Rand:   rand.Reader,
	})
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

// BaseRequest is a complete request for one role, tags and source
// identity included.
func BaseRequest() exchange.Request {
	return exchange.Request{
		PoolID:            "eu-west-1:pool",
		Audience:          "eu-west-1:pool",
		IdentityID:        "eu-west-1:1111",
		Provider:          "okta",
		AMR:               []string{"authenticated", "okta"},
		RoleARN:           "arn:aws:iam::123456789012:role/dev",
		SessionName:       "alice",
		Duration:          time.Hour,
		SessionPolicy:     `{"Version":"2012-10-17"}`,
		Tags:              map[string]string{"team": "blue"},
		TransitiveTagKeys: []string{"team"},
		SourceIdentity:    "alice@example.com",
	}
}

// SAMLRequest is BaseRequest through SAMLProviderARN with an upstream
// SAML response.
func SAMLRequest() exchange.Request {
	r := BaseRequest()
	r.SAMLProviderARN = SAMLProviderARN
	r.UpstreamToken = base64.StdEncoding.EncodeToString([]byte("<samlp:Response/>"))
	return r
}
