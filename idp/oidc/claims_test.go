package oidc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/testkit"
	"fedgate/idp"
	"fedgate/idp/settings"
)

// twinAttacks are payload members a hostile claim name could add to a
// token the real IdP signs: a registered claim under another letter case,
// which encoding/json (go-oidc's decoding) matches and lets win.
func twinAttacks(now time.Time) []struct{ name, members string } {
	past := now.Add(-time.Hour).Unix()
	return []struct{ name, members string }{
		{"Sub after sub", `"Sub":"victim-123"`},
		{"SUB after sub", `"SUB":"victim-123"`},
		{"long-s twin of sub (folds to S)", `"ſub":"victim-123"`},
		{"EXP in the past", fmt.Sprintf(`"EXP":%d`, past)},
		{"Exp far ahead", fmt.Sprintf(`"Exp":%d`, now.Add(1000*time.Hour).Unix())},
		{"Aud", `"Aud":"someone-else"`},
		{"Iss", `"Iss":"https://evil.example"`},
		{"Nbf", fmt.Sprintf(`"Nbf":%d`, now.Unix())},
		{"IAT", fmt.Sprintf(`"IAT":%d`, past)},
		{"Nonce", `"Nonce":"other-flow"`},
		{"AZP", `"AZP":"mobile-app"`},
		{"At_Hash", `"At_Hash":"abc"`},
		{"sub twice", `"sub":"victim-123"`},
	}
}

// TestOIDCRefusesCaseVariantRegisteredClaims: a token carrying a
// registered claim twice, under any letter case, is refused on every path
// (app tokens and the browser's code flow), whichever member comes last.
func TestOIDCRefusesCaseVariantRegisteredClaims(t *testing.T) {
	clock, op, p := newTestSetup(t, nil)
	for _, attack := range twinAttacks(clock.Now()) {
		for _, place := range []struct {
			name string
			sign func() []byte
		}{
			{"last", func() []byte { return testkit.WithMembersLast(t, op.claims(), attack.members) }},
			{"first", func() []byte { return testkit.WithMembers(t, op.claims(), attack.members) }},
		} {
			t.Run(attack.name+"/"+place.name, func(t *testing.T) {
				id, err := p.VerifyToken(context.Background(), op.rsa.SignPayload(t, place.sign()))
				if !errors.Is(err, idp.ErrInvalidToken) || id != nil {
					t.Fatalf("VerifyToken = %+v, %v; want ErrInvalidToken", id, err)
				}
				if !strings.Contains(err.Error(), "letter-case variant") && !strings.Contains(err.Error(), "appears twice") {
					t.Errorf("error does not name the twin: %v", err)
				}
			})
		}
	}
	t.Run("a twin alone (no exact sub)", func(t *testing.T) {
		claims := op.claims()
		delete(claims, "sub")
		_, err := p.VerifyToken(context.Background(), op.rsa.SignPayload(t, testkit.WithMembers(t, claims, `"Sub":"victim-123"`)))
		if !errors.Is(err, idp.ErrInvalidToken) {
			t.Fatalf("err = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("code flow", func(t *testing.T) {
		op.mu.Lock()
		op.idTokenRaw = `"Sub":"victim-123"`
		op.mu.Unlock()
		f := newFlow()
		code, _ := signIn(t, op, p, f)
		id, err := p.Exchange(context.Background(), code, f)
		if !errors.Is(err, idp.ErrInvalidToken) || id != nil {
			t.Fatalf("Exchange = %+v, %v; want ErrInvalidToken", id, err)
		}
	})
	t.Run("unregistered claims may differ in case", func(t *testing.T) {
		id, err := p.VerifyToken(context.Background(), op.rsa.SignPayload(t, testkit.WithMembers(t, op.claims(), `"Groups":["x"],"Email":"a@example.com"`)))
		if err != nil {
			t.Fatalf("VerifyToken: %v", err)
		}
		if id.Subject != testSubject || id.Claims["Groups"] == nil || id.Claims["groups"] == nil {
			t.Errorf("identity = %+v", id)
		}
	})
}

// TestOIDCSubjectMustBeText: a subject no store keeps faithfully is an
// invalid token, not a server error further on.
func TestOIDCSubjectMustBeText(t *testing.T) {
	_, op, p := newTestSetup(t, nil)
	for _, tt := range []struct {
		name, sub string
		ok        bool
	}{
		{"NUL", "user\x00victim", false},
		{"newline", "user\nvictim", false},
		{"DEL", "user\x7f", false},
		{"escape", "\x1b[31muser", false},
		{"accents and CJK", "jürgen-山田", true},
		{"email shape", "alice@example.com", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			claims := op.claims()
			claims["sub"] = tt.sub
			id, err := p.VerifyToken(context.Background(), op.rsa.Sign(t, claims))
			if tt.ok {
				if err != nil || id.Subject != tt.sub {
					t.Fatalf("VerifyToken = %+v, %v", id, err)
				}
				return
			}
			if !errors.Is(err, idp.ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
		})
	}
}

// TestOIDCClockSkewIsExact: exp, nbf and iat get the configured skew and
// nothing more (go-oidc alone would add five minutes on nbf), and a skew
// of 0 set in the configuration is honoured, not replaced by the default.
func TestOIDCClockSkewIsExact(t *testing.T) {
	for _, tt := range []struct {
		skew  time.Duration
		claim string
		at    time.Duration // the claim's time relative to now
		ok    bool
	}{
		{0, "nbf", 0, true},
		{0, "nbf", time.Second, false},
		{0, "exp", -time.Second, false},
		{0, "iat", time.Second, false},
		{time.Minute, "nbf", time.Minute, true},
		{time.Minute, "nbf", time.Minute + time.Second, false},
		{time.Minute, "exp", -time.Minute, true},
		{time.Minute, "exp", -time.Minute - time.Second, false},
		{5 * time.Minute, "nbf", 4*time.Minute + 59*time.Second, true},
		{5 * time.Minute, "nbf", 5*time.Minute + time.Second, false},
	} {
		t.Run(fmt.Sprintf("skew %s %s %+v", tt.skew, tt.claim, tt.at), func(t *testing.T) {
			clock := newFakeClock()
			op := newTestIdP(t, clock)
			s := &Settings{Issuer: op.URL(), ClientID: testClientID, ClockSkew: ptr(settings.Duration(tt.skew))}
			s.ApplyDefaults(idp.Site{})
			if ps := s.Validate(idp.Site{}); len(ps) > 0 {
				t.Fatal(ps)
			}
			client := op.Client()
			client.Timeout = 5 * time.Second
			prov, err := s.Open(context.Background(), idp.Env{Site: idp.Site{ID: "corp"}, HTTP: client, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			claims := op.claims()
			claims[tt.claim] = clock.Now().Add(tt.at).Unix()
			_, err = prov.(*Provider).VerifyToken(context.Background(), op.rsa.Sign(t, claims))
			if tt.ok != (err == nil) {
				t.Fatalf("VerifyToken err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
