package upstreamtoken_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"fedgate/exchange"
	"fedgate/exchange/modes/internal/modetest"
	"fedgate/exchange/modes/upstreamtoken"
)

func newMode(sts exchange.WebIdentitySTS) exchange.Mode {
	return upstreamtoken.New(exchange.ModeDeps{WebIdentitySTS: sts})
}

// upstreamRequest is a request the mode accepts: an upstream token, no
// session tags, no source identity.
func upstreamRequest() exchange.Request {
	r := modetest.BaseRequest()
	r.Tags, r.TransitiveTagKeys, r.SourceIdentity = nil, nil, ""
	r.UpstreamToken = "upstream.id.token"
	return r
}

func TestUpstreamTokenMode(t *testing.T) {
	sts := modetest.NewSTS()
	mode := newMode(sts)
	if mode.Name() != "upstream-token" {
		t.Fatalf("Name = %q", mode.Name())
	}
	req := upstreamRequest()
	if _, err := mode.Vend(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	want := exchange.WebIdentityInput{RoleARN: req.RoleARN, Token: "upstream.id.token", SessionName: "alice", Duration: time.Hour, Policy: req.SessionPolicy}
	if len(sts.WebIdentityCalls()) != 1 || sts.WebIdentityCalls()[0] != want {
		t.Fatalf("STS calls = %+v, want %+v", sts.WebIdentityCalls(), want)
	}
}

func TestUpstreamTokenModeRejectsBadRequests(t *testing.T) {
	tests := []struct {
		name   string
		modify func(exchange.Request) exchange.Request
	}{
		{"upstream: no token", func(r exchange.Request) exchange.Request { r.UpstreamToken = ""; return r }},
		{"upstream: tags", func(r exchange.Request) exchange.Request {
			r.Tags = map[string]string{"team": "blue"}
			return r
		}},
		{"upstream: source identity", func(r exchange.Request) exchange.Request {
			r.SourceIdentity = "alice"
			return r
		}},
		{"upstream: no role", func(r exchange.Request) exchange.Request { r.RoleARN = ""; return r }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := modetest.NewSTS()
			_, err := newMode(sts).Vend(context.Background(), tt.modify(upstreamRequest()))
			if !errors.Is(err, exchange.ErrInvalidRequest) {
				t.Fatalf("error = %v, want ErrInvalidRequest", err)
			}
			if len(sts.WebIdentityCalls()) != 0 {
				t.Fatal("STS called for a rejected request")
			}
		})
	}
}

func TestUpstreamTokenModePassesSTSErrorsThrough(t *testing.T) {
	stsErr := exchange.NewSTSError(exchange.CodeAccessDenied, errors.New("not authorized"))
	r := modetest.BaseRequest()
	r.Tags, r.TransitiveTagKeys, r.SourceIdentity, r.UpstreamToken = nil, nil, "", "u.t.k"
	sts := modetest.NewSTS()
	sts.Fail(stsErr)
	_, err := newMode(sts).Vend(context.Background(), r)
	var se *exchange.STSError
	if !errors.As(err, &se) || se.Status != 403 {
		t.Fatalf("error = %v, want the STSError", err)
	}
}
