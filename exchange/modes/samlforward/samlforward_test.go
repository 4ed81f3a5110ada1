package samlforward_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fedgate/exchange"
	"fedgate/exchange/modes/internal/modetest"
	"fedgate/exchange/modes/samlforward"
)

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
			sts := modetest.NewSTS()
			req := modetest.SAMLRequest()
			tt.mutate(&req)
			mode := samlforward.New(exchange.ModeDeps{SAMLSTS: sts})
			if mode.Name() != "saml-forward" {
				t.Fatalf("Name = %q", mode.Name())
			}
			creds, err := mode.Vend(context.Background(), req)
			if tt.wantErr {
				if !errors.Is(err, exchange.ErrInvalidRequest) || len(sts.SAMLCalls()) != 0 {
					t.Fatalf("err = %v, STS calls %d; want ErrInvalidRequest and no call", err, len(sts.SAMLCalls()))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			in := sts.SAMLCalls()[0]
			if in.Assertion != req.UpstreamToken || in.PrincipalARN != modetest.SAMLProviderARN || in.RoleARN != req.RoleARN ||
				in.Duration != time.Hour || in.Policy != req.SessionPolicy || creds.RoleARN != req.RoleARN {
				t.Fatalf("STS input %+v", in)
			}
		})
	}
}
