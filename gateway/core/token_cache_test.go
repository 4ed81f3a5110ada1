package core

import (
	"context"
	"errors"
	"testing"
	"time"

	"fedgate/gateway/config"
	"fedgate/idp"
)

// countingVerifier verifies any token whose claims it was given, and
// counts the verifications.
type countingVerifier struct {
	calls  int
	claims map[string]map[string]any
}

func (v *countingVerifier) ID() string          { return "corp" }
func (v *countingVerifier) Type() string        { return "oidc" }
func (v *countingVerifier) DisplayName() string { return "Corp" }
func (v *countingVerifier) VerifyToken(_ context.Context, raw string) (*idp.Identity, error) {
	v.calls++
	c, ok := v.claims[raw]
	if !ok {
		return nil, errors.New("bad token")
	}
	return &idp.Identity{Provider: "corp", Subject: "alice", Claims: c, RawToken: raw}, nil
}

func TestVerifiedTokenCache(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	v := &countingVerifier{claims: map[string]map[string]any{
		"good":   {"exp": float64(now.Add(time.Minute).Unix())},
		"no-exp": {},
	}}
	c := &Core{now: func() time.Time { return now }, tokens: newTokenCache()}
	prov := &Provider{Cfg: config.Provider{ID: "corp"}, Provider: v}
	ctx := context.Background()
	verify := func(p *Provider, raw string) *idp.Identity {
		t.Helper()
		ident, err := c.VerifyToken(ctx, p, raw)
		if err != nil {
			t.Fatalf("VerifyToken(%s): %v", raw, err)
		}
		if ident.RawToken != raw {
			t.Errorf("RawToken = %q, want the token presented", ident.RawToken)
		}
		return ident
	}
	verify(prov, "good")
	verify(prov, "good")
	if v.calls != 1 {
		t.Errorf("%d verifications of one token, want 1", v.calls)
	}
	for _, e := range c.tokens.entries {
		if e.ident.RawToken != "" {
			t.Error("the cache keeps the token itself")
		}
	}
	// A new snapshot's provider (a configuration change) verifies afresh.
	verify(&Provider{Cfg: config.Provider{ID: "corp"}, Provider: v}, "good")
	if v.calls != 2 {
		t.Errorf("a new provider object did not verify again (%d calls)", v.calls)
	}
	// At exp the provider decides again (a real one refuses).
	now = now.Add(time.Minute)
	_, _ = c.VerifyToken(ctx, prov, "good")
	if v.calls != 3 {
		t.Errorf("at exp the cached identity was served (%d calls)", v.calls)
	}
	// A token without exp, or one refused, is never cached.
	verify(prov, "no-exp")
	verify(prov, "no-exp")
	if v.calls != 5 {
		t.Errorf("a token without exp was cached (%d calls)", v.calls)
	}
	for range 2 {
		if _, err := c.VerifyToken(ctx, prov, "bad"); err == nil {
			t.Fatal("a bad token verified")
		}
	}
	if v.calls != 7 {
		t.Errorf("a refused token was cached (%d calls)", v.calls)
	}
}
