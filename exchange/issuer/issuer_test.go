package issuer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"fedgate/exchange/issuer"
	"fedgate/exchange/issuer/issuertest"
	"fedgate/exchange/secret"
	"fedgate/gateway/store"
	"fedgate/gateway/testkit"
)

const testURL = "https://fedgate.example.com"

type fixture struct {
	keys  *issuertest.KeyStore
	clock *testkit.Clock
	box   *secret.Box
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{
		keys:  &issuertest.KeyStore{},
		clock: testkit.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)),
		box:   box,
	}
}

func (f *fixture) options(alg string) issuer.Options {
	return issuer.Options{URL: testURL, Algorithm: alg, Keys: f.keys, Sealer: f.box, Now: f.clock.Now, Rand: rand.Reader}
}

func (f *fixture) newIssuer(t testing.TB, alg string) *issuer.Issuer {
	t.Helper()
	iss, err := issuer.New(context.Background(), f.options(alg))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return iss
}

func publishedKey(iss *issuer.Issuer, kid string) []jose.JSONWebKey {
	set := iss.JWKS()
	return set.Key(kid)
}

// verify checks a token independently: it parses with go-jose, picks the key
// by kid from the published JWKS and returns the header and raw claims.
func verify(t *testing.T, token string, jwks jose.JSONWebKeySet, alg jose.SignatureAlgorithm) (jose.Header, map[string]json.RawMessage) {
	t.Helper()
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	h := parsed.Headers[0]
	keys := jwks.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys published", h.KeyID, len(keys))
	}
	var raw map[string]json.RawMessage
	if err := parsed.Claims(keys[0].Key, &raw); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	return h, raw
}

func TestMintVerifies(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256} {
		t.Run(string(alg), func(t *testing.T) {
			f := newFixture(t)
			iss := f.newIssuer(t, string(alg))
			tok, err := iss.Mint(context.Background(), issuer.Token{
				Subject:           "eu-west-1:1111",
				Audience:          "eu-west-1:pool",
				AMR:               []string{"authenticated", "okta"},
				Tags:              map[string]string{"team": "blue", "env": "prod"},
				TransitiveTagKeys: []string{"team"},
				SourceIdentity:    "alice@example.com",
			})
			if err != nil {
				t.Fatal(err)
			}
			h, raw := verify(t, tok, iss.JWKS(), alg)
			if h.Algorithm != string(alg) || h.KeyID != iss.SigningKeyID() || h.ExtraHeaders[jose.HeaderType] != "JWT" {
				t.Fatalf("header = alg %q kid %q typ %v", h.Algorithm, h.KeyID, h.ExtraHeaders[jose.HeaderType])
			}
			want := map[string]string{
				"iss":                      `"` + testURL + `"`,
				"sub":                      `"eu-west-1:1111"`,
				"aud":                      `"eu-west-1:pool"`,
				"amr":                      `["authenticated","okta"]`,
				issuer.ClaimSourceIdentity: `"alice@example.com"`,
				"iat":                      "1740830400",
				"nbf":                      "1740830400",
				"exp":                      "1740830700", // default 5m
			}
			for k, v := range want {
				if string(raw[k]) != v {
					t.Errorf("claim %s = %s, want %s", k, raw[k], v)
				}
			}
			var tags struct {
				PrincipalTags     map[string][]string `json:"principal_tags"`
				TransitiveTagKeys []string            `json:"transitive_tag_keys"`
			}
			if err := json.Unmarshal(raw[issuer.ClaimTags], &tags); err != nil {
				t.Fatalf("tags claim %s: %v", raw[issuer.ClaimTags], err)
			}
			if len(tags.PrincipalTags) != 2 || tags.PrincipalTags["team"][0] != "blue" || tags.PrincipalTags["env"][0] != "prod" ||
				!slices.Equal(tags.TransitiveTagKeys, []string{"team"}) {
				t.Fatalf("tags claim = %s", raw[issuer.ClaimTags])
			}
			if len(raw["jti"]) < 10 {
				t.Fatalf("jti = %s", raw["jti"])
			}
			for _, k := range iss.JWKS().Keys {
				if !k.IsPublic() || k.Use != "sig" || k.KeyID == "" || k.Algorithm != string(alg) {
					t.Fatalf("published key %+v: want public, use=sig, kid, alg", k)
				}
			}
		})
	}
}

func TestMintClaimsAreIntegersAndOptionalClaimsOmitted(t *testing.T) {
	f := newFixture(t)
	f.clock.Advance(999_999_999 * time.Nanosecond) // sub-second part must not leak
	iss := f.newIssuer(t, issuer.AlgES256)
	tok, err := iss.Mint(context.Background(), issuer.Token{Subject: "s", Audience: "a"})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"iat", "nbf", "exp"} {
		n, ok := claims[k].(json.Number)
		if !ok {
			t.Fatalf("%s = %T, want a number", k, claims[k])
		}
		if _, err := n.Int64(); err != nil {
			t.Fatalf("%s = %s, want an integer", k, n)
		}
	}
	for _, k := range []string{"amr", issuer.ClaimTags, issuer.ClaimSourceIdentity} {
		if _, ok := claims[k]; ok {
			t.Errorf("claim %s present though not requested", k)
		}
	}
}

func TestMintTTL(t *testing.T) {
	tests := []struct {
		name      string
		optionTTL time.Duration
		tokenTTL  time.Duration
		want      time.Duration
	}{
		{"issuer default", 0, 0, issuer.DefaultTokenTTL},
		{"configured default", 2 * time.Minute, 0, 2 * time.Minute},
		{"per token", 0, 7 * time.Minute, 7 * time.Minute},
		{"capped", 0, time.Hour, issuer.MaxTokenTTL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			o := f.options(issuer.AlgES256)
			o.TokenTTL = tt.optionTTL
			iss, err := issuer.New(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := iss.Mint(context.Background(), issuer.Token{Subject: "s", Audience: "a", TTL: tt.tokenTTL})
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			var c jwt.Claims
			if err := parsed.Claims(iss.JWKS().Keys[0].Key, &c); err != nil {
				t.Fatal(err)
			}
			if got := c.Expiry.Time().Sub(c.IssuedAt.Time()); got != tt.want {
				t.Fatalf("lifetime = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMintRejectsBadTokens(t *testing.T) {
	iss := newFixture(t).newIssuer(t, issuer.AlgES256)
	manyTags := map[string]string{}
	for i := range 51 { // one past the AWS limit of 50
		manyTags[strings.Repeat("k", i+1)] = "v"
	}
	tests := []struct {
		name string
		tok  issuer.Token
	}{
		{"no subject", issuer.Token{Audience: "a"}},
		{"no audience", issuer.Token{Subject: "s"}},
		{"foreign issuer", issuer.Token{Subject: "s", Audience: "a", Issuer: "https://evil.example.com"}},
		{"issuer prefix trick", issuer.Token{Subject: "s", Audience: "a", Issuer: testURL + ".evil.com/pools/x"}},
		{"nested pool path", issuer.Token{Subject: "s", Audience: "a", Issuer: testURL + "/pools/a/b"}},
		{"empty pool", issuer.Token{Subject: "s", Audience: "a", Issuer: testURL + "/pools/"}},
		{"too many tags", issuer.Token{Subject: "s", Audience: "a", Tags: manyTags}},
		{"long tag key", issuer.Token{Subject: "s", Audience: "a", Tags: map[string]string{strings.Repeat("k", 129): "v"}}},
		{"long tag value", issuer.Token{Subject: "s", Audience: "a", Tags: map[string]string{"k": strings.Repeat("v", 257)}}},
		{"transitive without tag", issuer.Token{Subject: "s", Audience: "a", Tags: map[string]string{"k": "v"}, TransitiveTagKeys: []string{"x"}}},
		{"transitive without tags", issuer.Token{Subject: "s", Audience: "a", TransitiveTagKeys: []string{"x"}}},
		{"short source identity", issuer.Token{Subject: "s", Audience: "a", SourceIdentity: "a"}},
		{"long source identity", issuer.Token{Subject: "s", Audience: "a", SourceIdentity: strings.Repeat("a", 65)}},
		{"negative ttl", issuer.Token{Subject: "s", Audience: "a", TTL: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := iss.Mint(context.Background(), tt.tok); !errors.Is(err, issuer.ErrInvalidToken) {
				t.Fatalf("Mint error = %v, want issuer.ErrInvalidToken", err)
			}
		})
	}
}

func TestMintPoolIssuer(t *testing.T) {
	iss := newFixture(t).newIssuer(t, issuer.AlgES256)
	for _, tok := range []issuer.Token{
		{Issuer: iss.PoolIssuerURL("payments"), Subject: "s", Audience: "a"},
		{Issuer: testURL + "/pools/payments", Subject: "s", Audience: "a"},
	} {
		signed, err := iss.Mint(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		_, raw := verify(t, signed, iss.JWKS(), jose.ES256)
		if string(raw["iss"]) != `"`+testURL+`/pools/payments"` {
			t.Fatalf("iss = %s", raw["iss"])
		}
	}
}

func TestRotateKeepsOldKeyUntilPrune(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	iss := f.newIssuer(t, issuer.AlgES256)
	oldKID := iss.SigningKeyID()
	oldTok, err := iss.Mint(ctx, issuer.Token{Subject: "s", Audience: "a"})
	if err != nil {
		t.Fatal(err)
	}

	newKID, err := iss.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if newKID == oldKID || iss.SigningKeyID() != newKID {
		t.Fatalf("after rotate signer = %q (old %q, new %q)", iss.SigningKeyID(), oldKID, newKID)
	}
	newTok, err := iss.Mint(ctx, issuer.Token{Subject: "s", Audience: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := verify(t, newTok, iss.JWKS(), jose.ES256); h.KeyID != newKID {
		t.Fatalf("new token kid = %q", h.KeyID)
	}
	verify(t, oldTok, iss.JWKS(), jose.ES256) // old kid still published and verifiable

	// Just inside the window: Prune keeps the retired key.
	f.clock.Advance((issuer.MaxTokenTTL + issuer.ClockSkew) - time.Second)
	if err := iss.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if len(publishedKey(iss, oldKID)) != 1 || f.keys.Len() != 2 {
		t.Fatalf("old key pruned too early: %d stored", f.keys.Len())
	}

	f.clock.Advance(2 * time.Second)
	if err := iss.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if len(publishedKey(iss, oldKID)) != 0 || f.keys.Len() != 1 {
		t.Fatalf("old key still present after window: %d stored", f.keys.Len())
	}
	if len(publishedKey(iss, newKID)) != 1 {
		t.Fatal("current key was pruned")
	}
}

func TestReloadSeesRotationByAnotherReplica(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.newIssuer(t, issuer.AlgES256)
	b := f.newIssuer(t, issuer.AlgES256)
	if a.SigningKeyID() != b.SigningKeyID() {
		t.Fatal("second replica generated its own key instead of loading the stored one")
	}
	kid, err := b.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.SigningKeyID() == kid {
		t.Fatal("replica a changed without reload")
	}
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if a.SigningKeyID() != kid || len(a.JWKS().Keys) != 2 {
		t.Fatalf("after reload signer = %q want %q, %d keys", a.SigningKeyID(), kid, len(a.JWKS().Keys))
	}
}

func TestNewRotatesWhenAlgorithmChanges(t *testing.T) {
	f := newFixture(t)
	es := f.newIssuer(t, issuer.AlgES256)
	rs := f.newIssuer(t, issuer.AlgRS256)
	if rs.SigningKeyID() == es.SigningKeyID() {
		t.Fatal("RS256 issuer reused the ES256 key")
	}
	tok, err := rs.Mint(context.Background(), issuer.Token{Subject: "s", Audience: "a"})
	if err != nil {
		t.Fatal(err)
	}
	verify(t, tok, rs.JWKS(), jose.RS256)
	if len(rs.JWKS().Keys) != 2 {
		t.Fatalf("want the retired ES256 key still published, got %d keys", len(rs.JWKS().Keys))
	}
}

func TestTamperedStoredKey(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(k *store.StoredKey, f *fixture)
		want   string
		// the running issuer still holds the right encryption key, so only
		// row tampering makes its reload fail
		rowTampered bool
	}{
		{"flipped byte", func(k *store.StoredKey, _ *fixture) { k.Sealed[len(k.Sealed)-1] ^= 1 }, "cannot be decrypted", true},
		{"renamed row", func(k *store.StoredKey, _ *fixture) { k.ID = "other" }, "cannot be decrypted", true},
		{"wrong algorithm", func(k *store.StoredKey, _ *fixture) { k.Algorithm = issuer.AlgRS256 }, "does not match algorithm", true},
		{"other encryption key", func(_ *store.StoredKey, f *fixture) {
			f.box, _ = secret.NewBox(bytes.Repeat([]byte{8}, secret.KeySize), rand.Reader)
		}, "wrong encryption key", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			iss := f.newIssuer(t, issuer.AlgES256)
			f.keys.Mutate(func(keys []store.StoredKey) { tt.tamper(&keys[0], f) })
			_, err := issuer.New(context.Background(), f.options(issuer.AlgES256))
			var ke *issuer.KeyError
			if !errors.As(err, &ke) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want issuer.KeyError containing %q", err, tt.want)
			}
			if !tt.rowTampered {
				return
			}
			// A failed reload keeps serving the last good snapshot.
			before := iss.SigningKeyID()
			if err := iss.Reload(context.Background()); err == nil {
				t.Fatal("Reload accepted a tampered key")
			}
			if iss.SigningKeyID() != before {
				t.Fatal("failed reload replaced the snapshot")
			}
		})
	}
}

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*issuer.Options)
		want   string
	}{
		{"no url", func(o *issuer.Options) { o.URL = "" }, "URL is required"},
		{"relative url", func(o *issuer.Options) { o.URL = "/fedgate" }, "absolute"},
		{"trailing slash", func(o *issuer.Options) { o.URL = testURL + "/" }, "trailing slash"},
		{"query", func(o *issuer.Options) { o.URL = testURL + "?x=1" }, "query"},
		{"algorithm", func(o *issuer.Options) { o.Algorithm = "HS256" }, "not supported"},
		{"ttl too long", func(o *issuer.Options) { o.TokenTTL = 11 * time.Minute }, "out of range"},
		{"no store", func(o *issuer.Options) { o.Keys = nil }, "Keys"},
		{"no sealer", func(o *issuer.Options) { o.Sealer = nil }, "Sealer"},
		{"no clock", func(o *issuer.Options) { o.Now = nil }, "Now"},
		{"no rand", func(o *issuer.Options) { o.Rand = nil }, "Rand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newFixture(t).options(issuer.AlgES256)
			tt.modify(&o)
			if _, err := issuer.New(context.Background(), o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want containing %q", err, tt.want)
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	d := issuer.Discovery(testURL + "/pools/p")
	if d["issuer"] != testURL+"/pools/p" || d["jwks_uri"] != testURL+"/pools/p/.well-known/jwks.json" {
		t.Fatalf("discovery = %v", d)
	}
	for _, k := range []string{"response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported", "claims_supported"} {
		if v, ok := d[k].([]string); !ok || len(v) == 0 {
			t.Errorf("%s = %v", k, d[k])
		}
	}
}

func BenchmarkMint(b *testing.B) {
	for _, alg := range []string{issuer.AlgES256, issuer.AlgRS256} {
		b.Run(alg, func(b *testing.B) {
			iss := newFixture(b).newIssuer(b, alg)
			tok := issuer.Token{Subject: "eu-west-1:1111", Audience: "eu-west-1:pool", AMR: []string{"authenticated", "okta"},
				Tags: map[string]string{"team": "blue"}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := iss.Mint(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// With a publication delay, a rotated key is in the JWKS of every replica
// that reloads before it signs: until activation the old key signs, after
// it the new one, and the old one stays published for the window.
func TestRotatedKeyIsPublishedBeforeItSigns(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.options(issuer.AlgES256)
	o.PublishDelay = 30 * time.Second
	a, err := issuer.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	replica, err := issuer.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	oldKID := a.SigningKeyID()
	newKID, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := replica.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for name, iss := range map[string]*issuer.Issuer{"rotating": a, "replica": replica} {
		if iss.SigningKeyID() != oldKID {
			t.Errorf("%s signs with %q before activation, want the old key", name, iss.SigningKeyID())
		}
		if len(publishedKey(iss, newKID)) != 1 {
			t.Errorf("%s does not publish the announced key", name)
		}
	}
	f.clock.Advance(30 * time.Second)
	for name, iss := range map[string]*issuer.Issuer{"rotating": a, "replica": replica} {
		if err := iss.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if iss.SigningKeyID() != newKID || len(publishedKey(iss, oldKID)) != 1 {
			t.Errorf("%s after activation: signs with %q (want %q), old key published: %d", name, iss.SigningKeyID(), newKID, len(publishedKey(iss, oldKID)))
		}
	}
}
