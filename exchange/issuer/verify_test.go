package issuer_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"fedgate/exchange/issuer"
)

// signRaw signs payload with the issuer's current key, as only fedgate
// could, to test what Verify makes of payloads Mint never writes.
func signRaw(t *testing.T, f *fixture, iss *issuer.Issuer, alg jose.SignatureAlgorithm, payload string) string {
	t.Helper()
	keys, err := f.keys.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID != iss.SigningKeyID() {
			continue
		}
		der, err := f.box.Open(k.Sealed, []byte(k.ID))
		if err != nil {
			t.Fatal(err)
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: priv, KeyID: k.ID}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		jws, err := signer.Sign([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		s, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Fatal("no signing key")
	return ""
}

func TestVerifyOwnTokens(t *testing.T) {
	const pool = "us-east-1:0f8c1a2b-0000-4000-8000-000000000001"
	want := issuer.Expect{Issuer: testURL, Audiences: []string{pool}}
	good := issuer.Token{Subject: "us-east-1:identity", Audience: pool, AMR: []string{"authenticated", "login.example", "login.example:" + pool + ":u1"},
		PrincipalTags: map[string]string{"team": "blue"}, TTL: 10 * time.Minute}
	now := func(f *fixture) int64 { return f.clock.Now().Unix() }
	cases := []struct {
		name string
		// token makes the token; later moves the clock before Verify.
		token   func(t *testing.T, f *fixture, iss *issuer.Issuer) string
		later   time.Duration
		want    issuer.Expect
		wantErr error
	}{
		{name: "good", token: mint(good)},
		{name: "just inside the skew after exp", token: mint(good), later: 10*time.Minute + issuer.VerifySkew - time.Second},
		{name: "at exp plus skew", token: mint(good), later: 10*time.Minute + issuer.VerifySkew, wantErr: issuer.ErrTokenExpired},
		{name: "other audience", token: mint(good), want: issuer.Expect{Issuer: testURL, Audiences: []string{pool + ":unauthenticated"}}, wantErr: issuer.ErrTokenRefused},
		{name: "other issuer", token: mint(good), want: issuer.Expect{Issuer: testURL + "/pools/x", Audiences: []string{pool}}, wantErr: issuer.ErrTokenRefused},
		{name: "per-pool issuer accepted when expected", token: mint(issuer.Token{Issuer: testURL + "/pools/x", Subject: "s", Audience: pool}),
			want: issuer.Expect{Issuer: testURL + "/pools/x", Audiences: []string{pool}}},
		{name: "another issuer's key (forged)", token: func(t *testing.T, _ *fixture, _ *issuer.Issuer) string {
			other := newFixture(t)
			return mint(good)(t, other, other.newIssuer(t, issuer.AlgES256))
		}, wantErr: issuer.ErrTokenRefused},
		{name: "tampered payload", token: func(t *testing.T, f *fixture, iss *issuer.Issuer) string {
			tok := mint(good)(t, f, iss)
			parts := strings.Split(tok, ".")
			forged := signRaw(t, f, iss, jose.ES256, `{"iss":"`+testURL+`","sub":"someone-else","aud":"`+pool+`"}`)
			return parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
		}, wantErr: issuer.ErrTokenRefused},
		{name: "alg none", token: func(*testing.T, *fixture, *issuer.Issuer) string {
			return "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
		}, wantErr: issuer.ErrTokenRefused},
		{name: "twin sub claim", token: func(t *testing.T, f *fixture, iss *issuer.Issuer) string {
			return signRaw(t, f, iss, jose.ES256, fmt.Sprintf(`{"iss":%q,"sub":"a","Sub":"b","aud":%q,"iat":%d,"nbf":%d,"exp":%d}`, testURL, pool, now(f), now(f), now(f)+60))
		}, wantErr: issuer.ErrTokenRefused},
		{name: "duplicate aud", token: func(t *testing.T, f *fixture, iss *issuer.Issuer) string {
			return signRaw(t, f, iss, jose.ES256, fmt.Sprintf(`{"iss":%q,"sub":"a","aud":"other","aud":%q,"iat":%d,"nbf":%d,"exp":%d}`, testURL, pool, now(f), now(f), now(f)+60))
		}, wantErr: issuer.ErrTokenRefused},
		{name: "no exp", token: func(t *testing.T, f *fixture, iss *issuer.Issuer) string {
			return signRaw(t, f, iss, jose.ES256, fmt.Sprintf(`{"iss":%q,"sub":"a","aud":%q,"iat":%d,"nbf":%d}`, testURL, pool, now(f), now(f)))
		}, wantErr: issuer.ErrTokenRefused},
		{name: "lifetime past the cap", token: func(t *testing.T, f *fixture, iss *issuer.Issuer) string {
			return signRaw(t, f, iss, jose.ES256, fmt.Sprintf(`{"iss":%q,"sub":"a","aud":%q,"iat":%d,"nbf":%d,"exp":%d}`, testURL, pool, now(f), now(f), now(f)+3600))
		}, wantErr: issuer.ErrTokenRefused},
		{name: "not valid yet", token: func(t *testing.T, f *fixture, iss *issuer.Issuer) string {
			at := now(f) + int64((issuer.VerifySkew + time.Second).Seconds())
			return signRaw(t, f, iss, jose.ES256, fmt.Sprintf(`{"iss":%q,"sub":"a","aud":%q,"iat":%d,"nbf":%d,"exp":%d}`, testURL, pool, at, at, at+60))
		}, wantErr: issuer.ErrTokenRefused},
		{name: "aud array of two", token: func(t *testing.T, f *fixture, iss *issuer.Issuer) string {
			return signRaw(t, f, iss, jose.ES256, fmt.Sprintf(`{"iss":%q,"sub":"a","aud":[%q,"x"],"iat":%d,"nbf":%d,"exp":%d}`, testURL, pool, now(f), now(f), now(f)+60))
		}, wantErr: issuer.ErrTokenRefused},
		{name: "amr not strings", token: func(t *testing.T, f *fixture, iss *issuer.Issuer) string {
			return signRaw(t, f, iss, jose.ES256, fmt.Sprintf(`{"iss":%q,"sub":"a","aud":%q,"amr":[1],"iat":%d,"nbf":%d,"exp":%d}`, testURL, pool, now(f), now(f), now(f)+60))
		}, wantErr: issuer.ErrTokenRefused},
		{name: "retired key still published", token: func(t *testing.T, f *fixture, iss *issuer.Issuer) string {
			tok := mint(good)(t, f, iss)
			if _, err := iss.Rotate(context.Background()); err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{name: "pruned key", token: func(t *testing.T, f *fixture, iss *issuer.Issuer) string {
			tok := mint(issuer.Token{Subject: "s", Audience: pool, TTL: time.Minute})(t, f, iss)
			if _, err := iss.Rotate(context.Background()); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(issuer.MaxTokenTTL + issuer.ClockSkew)
			if err := iss.Prune(context.Background()); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(-(issuer.MaxTokenTTL + issuer.ClockSkew))
			return tok
		}, wantErr: issuer.ErrTokenRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			iss := f.newIssuer(t, issuer.AlgES256)
			tok := tc.token(t, f, iss)
			f.clock.Advance(tc.later)
			w := tc.want
			if w.Issuer == "" {
				w = want
			}
			v, err := iss.Verify(tok, w)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Verify = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tc.name == "good" && (v.Subject != good.Subject || v.Audience != pool || len(v.AMR) != 3 || v.AMR[2] != good.AMR[2] || v.PrincipalTags["team"] != "blue") {
				t.Errorf("verified = %+v", v)
			}
		})
	}
}

func mint(tok issuer.Token) func(*testing.T, *fixture, *issuer.Issuer) string {
	return func(t *testing.T, _ *fixture, iss *issuer.Issuer) string {
		t.Helper()
		s, err := iss.Mint(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}
