package gatewaytoken_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"fedgate/exchange"
	"fedgate/exchange/issuer"
	"fedgate/exchange/modes/gatewaytoken"
	"fedgate/exchange/modes/internal/modetest"
)

func newMode(t *testing.T, sts exchange.WebIdentitySTS) exchange.Mode {
	return gatewaytoken.New(exchange.ModeDeps{Minter: modetest.NewIssuer(t), WebIdentitySTS: sts})
}

func TestGatewayTokenMode(t *testing.T) {
	tests := []struct {
		name      string
		issuerURL string
		wantIss   string
	}{
		{"root issuer", "", modetest.IssuerURL},
		{"pool issuer", modetest.IssuerURL + "/pools/payments", modetest.IssuerURL + "/pools/payments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := modetest.NewIssuer(t)
			sts := modetest.NewSTS()
			mode := gatewaytoken.New(exchange.ModeDeps{Minter: iss, WebIdentitySTS: sts})
			if mode.Name() != "gateway-token" {
				t.Fatalf("Name = %q", mode.Name())
			}
			req := modetest.BaseRequest()
			req.IssuerURL = tt.issuerURL
			creds, err := mode.Vend(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID != "ASIAalice" || creds.RoleARN != req.RoleARN || creds.SessionName != "alice" {
				t.Fatalf("credentials = %+v", creds)
			}
			if len(sts.WebIdentityCalls()) != 1 {
				t.Fatalf("%d STS calls", len(sts.WebIdentityCalls()))
			}
			in := sts.WebIdentityCalls()[0]
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

func TestGatewayTokenModeRejectsBadRequests(t *testing.T) {
	tests := []struct {
		name   string
		modify func(exchange.Request) exchange.Request
	}{
		{"gateway: no role", func(r exchange.Request) exchange.Request { r.RoleARN = ""; return r }},
		{"gateway: no session name", func(r exchange.Request) exchange.Request { r.SessionName = ""; return r }},
		{"gateway: no audience", func(r exchange.Request) exchange.Request { r.Audience = ""; return r }},
		{"gateway: no identity", func(r exchange.Request) exchange.Request { r.IdentityID = ""; return r }},
		{"gateway: foreign issuer", func(r exchange.Request) exchange.Request { r.IssuerURL = "https://evil.example.com"; return r }},
		{"gateway: negative duration", func(r exchange.Request) exchange.Request { r.Duration = -time.Second; return r }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := modetest.NewSTS()
			_, err := newMode(t, sts).Vend(context.Background(), tt.modify(modetest.BaseRequest()))
			if err == nil {
				t.Fatal("want error")
			}
			if !errors.Is(err, exchange.ErrInvalidRequest) && !errors.Is(err, issuer.ErrInvalidToken) {
				t.Fatalf("error = %v, want ErrInvalidRequest or ErrInvalidToken", err)
			}
			if len(sts.WebIdentityCalls()) != 0 {
				t.Fatal("STS called for a rejected request")
			}
		})
	}
}

func TestGatewayTokenModePassesSTSErrorsThrough(t *testing.T) {
	stsErr := exchange.NewSTSError(exchange.CodeAccessDenied, errors.New("not authorized"))
	sts := modetest.NewSTS()
	sts.Fail(stsErr)
	_, err := newMode(t, sts).Vend(context.Background(), modetest.BaseRequest())
	var se *exchange.STSError
	if !errors.As(err, &se) || se.Status != 403 {
		t.Fatalf("error = %v, want the STSError", err)
	}
}
