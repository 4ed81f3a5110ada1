package samlbroker_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"fedgate/exchange"
	"fedgate/exchange/issuer/issuertest"
	"fedgate/exchange/modes/internal/modetest"
	"fedgate/exchange/modes/samlbroker"
	brokeridp "fedgate/exchange/samlbroker"
	"fedgate/exchange/secret"
	"fedgate/gateway/testkit"
)

func TestSAMLBrokerModeSignsOnlyTheMappedRole(t *testing.T) {
	box, err := secret.NewBox(bytes.Repeat([]byte{5}, secret.KeySize), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clock := testkit.NewClock(time.Now())
	ring, err := brokeridp.NewKeyRing(context.Background(), brokeridp.KeyOptions{Keys: &issuertest.KeyStore{}, Sealer: box, Now: clock.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	broker, err := brokeridp.New(brokeridp.Options{EntityID: "https://fedgate.example.com/saml/idp", Keys: ring, Now: clock.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	sts := modetest.NewSTS()
	req := modetest.SAMLRequest()
	req.UpstreamToken = "an OIDC token: the broker ignores what the upstream was"
	mode := samlbroker.New(exchange.ModeDeps{Signer: broker, SAMLSTS: sts})
	if mode.Name() != "saml-broker" {
		t.Fatalf("Name = %q", mode.Name())
	}
	if _, err := mode.Vend(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	in := sts.SAMLCalls()[0]
	raw, err := base64.StdEncoding.DecodeString(in.Assertion)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, want := range []string{
		req.RoleARN + "," + modetest.SAMLProviderARN, ">alice<", ">3600<", "PrincipalTag:team", ">blue<", "TransitiveTagKeys",
		"SourceIdentity", ">" + req.IdentityID + "<", "https://signin.aws.amazon.com/saml",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("signed response lacks %q", want)
		}
	}
	if strings.Count(doc, "Attributes/Role\"") != 1 || strings.Count(doc, "arn:aws:iam::123456789012:role/") != 1 {
		t.Error("the response must carry exactly one role")
	}
	if in.PrincipalARN != modetest.SAMLProviderARN || in.RoleARN != req.RoleARN || in.Policy != req.SessionPolicy {
		t.Errorf("STS input %+v", in)
	}

	// STS refusals pass through unchanged, for the gateway to map.
	sts.Fail(exchange.NewSTSError(exchange.CodeAccessDenied, errors.New("trust policy")))
	var se *exchange.STSError
	if _, err := samlbroker.New(exchange.ModeDeps{Signer: broker, SAMLSTS: sts}).Vend(context.Background(), req); !errors.As(err, &se) {
		t.Fatalf("err = %v, want the STSError", err)
	}
	if _, err := samlbroker.New(exchange.ModeDeps{Signer: broker}).Vend(context.Background(), req); !errors.Is(err, exchange.ErrInvalidRequest) {
		t.Fatalf("no STS: err = %v", err)
	}
}

func TestSAMLBrokerModeNeedsASigner(t *testing.T) {
	sts := modetest.NewSTS()
	_, err := samlbroker.New(exchange.ModeDeps{SAMLSTS: sts}).Vend(context.Background(), modetest.SAMLRequest())
	if !errors.Is(err, exchange.ErrInvalidRequest) || len(sts.SAMLCalls()) != 0 {
		t.Fatalf("err = %v, STS calls %d; want ErrInvalidRequest and no call", err, len(sts.SAMLCalls()))
	}
}
