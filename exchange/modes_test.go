package exchange_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"fedgate/exchange"
	"fedgate/exchange/issuer"
	"fedgate/exchange/issuer/issuertest"
	"fedgate/exchange/secret"
)

const issuerURL = "https://fedgate.example.com"

// fakeSTS records each call and answers with fixed credentials or an error.
type fakeSTS struct {
	calls []exchange.WebIdentityInput
	err   error
}

func (f *fakeSTS) AssumeRoleWithWebIdentity(_ context.Context, in exchange.WebIdentityInput) (*exchange.Credentials, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	return &exchange.Credentials{AccessKeyID: "ASIA" + in.SessionName, SecretAccessKey: "s", SessionToken: "t"}, nil
}

func newIssuer(t *testing.T) *issuer.Issuer {
	t.Helper()
	box, err := secret.NewBox(bytes.Repeat([]byte{3}, secret.KeySize), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := issuer.New(context.Background(), issuer.Options{
		URL:    issuerURL,
		Keys:   &issuertest.KeyStore{},
		Sealer: box,
		Now:    issuertest.NewClock(time.Now()).Now,
		Rand:   rand.Reader,
	})
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func baseRequest() exchange.Request {
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

func TestGatewayTokenMode(t *testing.T) {
	tests := []struct {
		name      string
		issuerURL string
		wantIss   string
	}{
		{"root issuer", "", issuerURL},
		{"pool issuer", issuerURL + "/pools/payments", issuerURL + "/pools/payments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := newIssuer(t)
			sts := &fakeSTS{}
			mode := exchange.NewGatewayTokenMode(iss, sts)
			if mode.Name() != "gateway-token" {
				t.Fatalf("Name = %q", mode.Name())
			}
			req := baseRequest()
			req.IssuerURL = tt.issuerURL
			creds, err := mode.Vend(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID != "ASIAalice" || creds.RoleARN != req.RoleARN || creds.SessionName != "alice" {
				t.Fatalf("credentials = %+v", creds)
			}
			if len(sts.calls) != 1 {
				t.Fatalf("%d STS calls", len(sts.calls))
			}
			in := sts.calls[0]
			if in.RoleARN != req.RoleARN || in.SessionName != req.SessionName || in.Duration != req.Duration || in.Policy != req.SessionPolicy {
				t.Fatalf("STS input = %+v", in)
			}
			parsed, err := jwt.ParseSigned(in.Token, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			var claims struct {
				jwt.Claims
				AMR            []string        `json:"amr"`
				Tags           json.RawMessage `json:"https://aws.amazon.com/tags"`
				SourceIdentity string          `json:"https://aws.amazon.com/source_identity"`
			}
			if err := parsed.Claims(iss.JWKS().Keys[0].Key, &claims); err != nil {
				t.Fatalf("token does not verify against the issuer's JWKS: %v", err)
			}
			if claims.Issuer != tt.wantIss || claims.Subject != req.IdentityID || !slices.Equal(claims.Audience, jwt.Audience{req.Audience}) ||
				!slices.Equal(claims.AMR, req.AMR) || claims.SourceIdentity != req.SourceIdentity {
				t.Fatalf("claims = %+v", claims)
			}
			if string(claims.Tags) != `{"principal_tags":{"team":["blue"]},"transitive_tag_keys":["team"]}` {
				t.Fatalf("tags claim = %s", claims.Tags)
			}
		})
	}
}

func TestUpstreamTokenMode(t *testing.T) {
	sts := &fakeSTS{}
	mode := exchange.NewUpstreamTokenMode(sts)
	if mode.Name() != "upstream-token" {
		t.Fatalf("Name = %q", mode.Name())
	}
	req := baseRequest()
	req.Tags, req.TransitiveTagKeys, req.SourceIdentity = nil, nil, ""
	req.UpstreamToken = "upstream.id.token"
	if _, err := mode.Vend(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	want := exchange.WebIdentityInput{RoleARN: req.RoleARN, Token: "upstream.id.token", SessionName: "alice", Duration: time.Hour, Policy: req.SessionPolicy}
	if len(sts.calls) != 1 || sts.calls[0] != want {
		t.Fatalf("STS calls = %+v, want %+v", sts.calls, want)
	}
}

func TestModesRejectBadRequests(t *testing.T) {
	gateway := func(sts exchange.WebIdentitySTS) exchange.Mode {
		return exchange.NewGatewayTokenMode(newIssuer(t), sts)
	}
	upstream := exchange.NewUpstreamTokenMode
	withUpstream := func(r exchange.Request) exchange.Request {
		r.Tags, r.TransitiveTagKeys, r.SourceIdentity = nil, nil, ""
		r.UpstreamToken = "upstream.id.token"
		return r
	}
	tests := []struct {
		name   string
		mode   func(exchange.WebIdentitySTS) exchange.Mode
		modify func(exchange.Request) exchange.Request
	}{
		{"gateway: no role", gateway, func(r exchange.Request) exchange.Request { r.RoleARN = ""; return r }},
		{"gateway: no session name", gateway, func(r exchange.Request) exchange.Request { r.SessionName = ""; return r }},
		{"gateway: no audience", gateway, func(r exchange.Request) exchange.Request { r.Audience = ""; return r }},
		{"gateway: no identity", gateway, func(r exchange.Request) exchange.Request { r.IdentityID = ""; return r }},
		{"gateway: foreign issuer", gateway, func(r exchange.Request) exchange.Request { r.IssuerURL = "https://evil.example.com"; return r }},
		{"gateway: negative duration", gateway, func(r exchange.Request) exchange.Request { r.Duration = -time.Second; return r }},
		{"upstream: no token", upstream, func(r exchange.Request) exchange.Request { r = withUpstream(r); r.UpstreamToken = ""; return r }},
		{"upstream: tags", upstream, func(r exchange.Request) exchange.Request {
			r = withUpstream(r)
			r.Tags = map[string]string{"team": "blue"}
			return r
		}},
		{"upstream: source identity", upstream, func(r exchange.Request) exchange.Request {
			r = withUpstream(r)
			r.SourceIdentity = "alice"
			return r
		}},
		{"upstream: no role", upstream, func(r exchange.Request) exchange.Request { r = withUpstream(r); r.RoleARN = ""; return r }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := &fakeSTS{}
			_, err := tt.mode(sts).Vend(context.Background(), tt.modify(baseRequest()))
			if err == nil {
				t.Fatal("want error")
			}
			if !errors.Is(err, exchange.ErrInvalidRequest) && !errors.Is(err, issuer.ErrInvalidToken) {
				t.Fatalf("error = %v, want ErrInvalidRequest or ErrInvalidToken", err)
			}
			if len(sts.calls) != 0 {
				t.Fatal("STS called for a rejected request")
			}
		})
	}
}

func TestModesPassSTSErrorsThrough(t *testing.T) {
	stsErr := exchange.NewSTSError(exchange.CodeAccessDenied, errors.New("not authorized"))
	req := baseRequest()
	for _, mode := range []exchange.Mode{
		exchange.NewGatewayTokenMode(newIssuer(t), &fakeSTS{err: stsErr}),
		exchange.NewUpstreamTokenMode(&fakeSTS{err: stsErr}),
	} {
		r := req
		if mode.Name() == "upstream-token" {
			r.Tags, r.TransitiveTagKeys, r.SourceIdentity, r.UpstreamToken = nil, nil, "", "u.t.k"
		}
		_, err := mode.Vend(context.Background(), r)
		var se *exchange.STSError
		if !errors.As(err, &se) || se.Status != 403 {
			t.Fatalf("%s: error = %v, want the STSError", mode.Name(), err)
		}
	}
}
