package exchange_test

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
	"fedgate/exchange/samlbroker"
	"fedgate/exchange/secret"
)

const samlProviderARN = "arn:aws:iam::123456789012:saml-provider/fedgate"

type fakeSAMLSTS struct {
	calls []exchange.SAMLInput
	err   error
}

func (f *fakeSAMLSTS) AssumeRoleWithSAML(_ context.Context, in exchange.SAMLInput) (*exchange.Credentials, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	return &exchange.Credentials{AccessKeyID: "ASIASAML", SecretAccessKey: "s", SessionToken: "t"}, nil
}

func samlRequest() exchange.Request {
	r := baseRequest()
	r.SAMLProviderARN = samlProviderARN
	r.UpstreamToken = base64.StdEncoding.EncodeToString([]byte("<samlp:Response/>"))
	return r
}

func TestSAMLForwardMode(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*exchange.Request)
		wantErr bool
	}{
		{"forwards the upstream response", func(r *exchange.Request) { r.Tags, r.TransitiveTagKeys, r.SourceIdentity = nil, nil, "" }, false},
		{"refuses session tags it cannot add", func(r *exchange.Request) { r.TransitiveTagKeys, r.SourceIdentity = nil, "" }, true},
		{"refuses a source identity", func(r *exchange.Request) { r.Tags, r.TransitiveTagKeys = nil, nil }, true},
		{"needs the provider ARN", func(r *exchange.Request) {
			r.Tags, r.TransitiveTagKeys, r.SourceIdentity, r.SAMLProviderARN = nil, nil, "", ""
		}, true},
		{"needs the response", func(r *exchange.Request) {
			r.Tags, r.TransitiveTagKeys, r.SourceIdentity, r.UpstreamToken = nil, nil, "", ""
		}, true},
		{"refuses an oversized response", func(r *exchange.Request) {
			r.Tags, r.TransitiveTagKeys, r.SourceIdentity, r.UpstreamToken = nil, nil, "", strings.Repeat("A", 100001)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := &fakeSAMLSTS{}
			req := samlRequest()
			tt.mutate(&req)
			creds, err := exchange.NewSAMLForwardMode(sts).Vend(context.Background(), req)
			if tt.wantErr {
				if !errors.Is(err, exchange.ErrInvalidRequest) || len(sts.calls) != 0 {
					t.Fatalf("err = %v, STS calls %d; want ErrInvalidRequest and no call", err, len(sts.calls))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			in := sts.calls[0]
			if in.Assertion != req.UpstreamToken || in.PrincipalARN != samlProviderARN || in.RoleARN != req.RoleARN ||
				in.Duration != time.Hour || in.Policy != req.SessionPolicy || creds.RoleARN != req.RoleARN {
				t.Fatalf("STS input %+v", in)
			}
		})
	}
}

func TestSAMLBrokerModeSignsOnlyTheMappedRole(t *testing.T) {
	box, err := secret.NewBox(bytes.Repeat([]byte{5}, secret.KeySize), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clock := issuertest.NewClock(time.Now())
	ring, err := samlbroker.NewKeyRing(context.Background(), samlbroker.KeyOptions{Keys: &issuertest.KeyStore{}, Sealer: box, Now: clock.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	broker, err := samlbroker.New(samlbroker.Options{EntityID: "https://fedgate.example.com/saml/idp", Keys: ring, Now: clock.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	sts := &fakeSAMLSTS{}
	req := samlRequest()
	req.UpstreamToken = "an OIDC token: the broker ignores what the upstream was"
	if _, err := exchange.NewSAMLBrokerMode(broker, sts).Vend(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	in := sts.calls[0]
	raw, err := base64.StdEncoding.DecodeString(in.Assertion)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, want := range []string{
		req.RoleARN + "," + samlProviderARN, ">alice<", ">3600<", "PrincipalTag:team", ">blue<", "TransitiveTagKeys",
		"SourceIdentity", ">" + req.IdentityID + "<", "https://signin.aws.amazon.com/saml",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("signed response lacks %q", want)
		}
	}
	if strings.Count(doc, "Attributes/Role\"") != 1 || strings.Count(doc, "arn:aws:iam::123456789012:role/") != 1 {
		t.Error("the response must carry exactly one role")
	}
	if in.PrincipalARN != samlProviderARN || in.RoleARN != req.RoleARN || in.Policy != req.SessionPolicy {
		t.Errorf("STS input %+v", in)
	}

	// STS refusals pass through unchanged, for the gateway to map.
	sts.err = exchange.NewSTSError(exchange.CodeAccessDenied, errors.New("trust policy"))
	var se *exchange.STSError
	if _, err := exchange.NewSAMLBrokerMode(broker, sts).Vend(context.Background(), req); !errors.As(err, &se) {
		t.Fatalf("err = %v, want the STSError", err)
	}
	if _, err := exchange.NewSAMLBrokerMode(broker, nil).Vend(context.Background(), req); !errors.Is(err, exchange.ErrInvalidRequest) {
		t.Fatalf("no STS: err = %v", err)
	}
}
