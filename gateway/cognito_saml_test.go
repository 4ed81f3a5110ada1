package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"fedgate/gateway/cognito"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/idp"
)

// cogFakeSAML stands in for a SAML provider (idp/saml*.go have their own
// tests, and cmd/fedgate/e2e_saml_more_test.go runs a real one). Its ACS
// path (ConsumeResponse) accepts the response "good" and records the
// request ids it was asked about; its Logins path (VerifyUnsolicited)
// accepts "good" (assertion "_a-good") and "good:ID" (assertion "_a-ID").
type cogFakeSAML struct {
	mu         sync.Mutex
	requestIDs [][]string
	verified   int
}

func (*cogFakeSAML) ID() string          { return "okta" }
func (*cogFakeSAML) Type() string        { return "saml" }
func (*cogFakeSAML) DisplayName() string { return "Okta" }
func (*cogFakeSAML) AuthnRequestURL(idp.Flow) (string, string, error) {
	return "", "", idp.ErrUnsupportedFlow
}
func (*cogFakeSAML) SPMetadata() ([]byte, error) { return nil, nil }

func (f *cogFakeSAML) ConsumeResponse(_ context.Context, resp string, ids []string) (*idp.Identity, error) {
	f.mu.Lock()
	f.requestIDs = append(f.requestIDs, ids)
	f.mu.Unlock()
	if resp != "good" {
		return nil, fmt.Errorf("%w: signature does not verify", idp.ErrInvalidToken)
	}
	return &idp.Identity{Provider: "okta", Subject: "dana@example.com",
		Claims: map[string]any{"sub": "dana@example.com", "groups": []any{"s3-readers"}, "department": "fin"}, RawToken: resp}, nil
}

func (f *cogFakeSAML) VerifyUnsolicited(_ context.Context, resp string) (*idp.Identity, idp.AssertionRef, error) {
	f.mu.Lock()
	f.verified++
	f.mu.Unlock()
	id, ok := strings.CutPrefix(resp, "good:")
	if resp == "good" {
		id, ok = "good", true
	}
	if !ok {
		return nil, idp.AssertionRef{}, fmt.Errorf("%w: signature does not verify", idp.ErrInvalidToken)
	}
	ident := &idp.Identity{Provider: "okta", Subject: "dana@example.com",
		Claims: map[string]any{"sub": "dana@example.com", "groups": []any{"s3-readers"}, "department": "fin"}, RawToken: resp}
	return ident, idp.AssertionRef{ID: "_a-" + id, Issuer: "https://okta.example.com", Until: cogFixedNow.Add(5 * time.Minute)}, nil
}

const cogSAMLARN = "arn:aws:iam::123456789012:saml-provider/okta"

// withCogSAML adds the fake SAML provider to both harness pools under one
// IAM SAML provider ARN.
func withCogSAML(h *cogHarness) *cogFakeSAML {
	fake := &cogFakeSAML{}
	lp := &core.Provider{Cfg: config.Provider{ID: "okta", Type: "saml"}, Provider: fake}
	for _, id := range []string{cogPoolID, cogClosedID} {
		pool := h.srv.core.Snapshot().Pools[id]
		pool.Cfg.SAMLProviderARN = cogSAMLARN
		pool.Providers = append(pool.Providers, lp)
	}
	return fake
}

// TestCognitoSAMLLogins: a SAML response comes under the pool's IAM SAML
// provider ARN, is verified as unsolicited without being used up, and
// maps to roles like any login; the SDKs' GetId -> GetCredentialsForIdentity
// (same Logins twice) works.
func TestCognitoSAMLLogins(t *testing.T) {
	h := newCogHarness(t)
	fake := withCogSAML(h)
	logins := map[string]string{cogSAMLARN: "good"}

	id := h.mustID(cogPoolID, logins)
	for i := range 3 { // the SDK's credential provider repeats its calls on refresh
		if r, _ := h.creds(id, logins, ""); r.status != http.StatusOK {
			t.Fatalf("GetCredentialsForIdentity %d: %s", i+1, r.body)
		}
	}
	if again := h.mustID(cogPoolID, logins); again != id {
		t.Errorf("GetId again: %s, want %s", again, id)
	}
	if got := h.sts.LastWebIdentity(t).RoleARN; got != cogReaderRole {
		t.Errorf("role %s", got)
	}
	if len(fake.requestIDs) != 0 || fake.verified == 0 {
		t.Errorf("Logins consumed the response %d times (verified %d times): they must only verify and bind", len(fake.requestIDs), fake.verified)
	}
	alice := h.mustID(cogPoolID, h.logins("alice"))
	for name, tc := range map[string]struct {
		id     string
		logins map[string]string
		want   string
	}{
		"identity of another user": {alice, logins, "is forbidden"},
		"forged response":          {id, map[string]string{cogSAMLARN: "forged"}, "The SAML response is not valid"},
		"other provider ARN":       {id, map[string]string{"arn:aws:iam::123456789012:saml-provider/other": "good"}, "not from a supported provider"},
	} {
		if r, _ := h.creds(tc.id, tc.logins, ""); r.errorType() != cognito.ErrNotAuthorized || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s: %s", name, r.body)
		}
	}
}

// TestCognitoSAMLAssertionBinding: a Logins assertion is bound to the
// (pool, identity) of its first use; it is a replay anywhere else: in
// another pool, at the ACS or JSON API (the shared replay cache), and an
// assertion spent there cannot come to Cognito. A refused replay leaves
// no identity behind.
func TestCognitoSAMLAssertionBinding(t *testing.T) {
	ctx := context.Background()
	h := newCogHarness(t)
	withCogSAML(h)
	replay := core.SAMLReplayCache(h.store, h.clock.Now, "okta") // the ACS cache of the same provider
	const alreadyUsed = "The SAML response was already used."

	t.Run("bound in one pool, a replay in another", func(t *testing.T) {
		logins := map[string]string{cogSAMLARN: "good:pools"}
		id := h.mustID(cogPoolID, logins)
		before := h.identities()
		r := h.call("GetId", map[string]any{"IdentityPoolId": cogClosedID, "Logins": logins})
		if r.errorType() != cognito.ErrNotAuthorized || !strings.Contains(string(r.body), alreadyUsed) {
			t.Fatalf("GetId in another pool: HTTP %d %s", r.status, r.body)
		}
		if h.identities() != before {
			t.Error("the refused replay stored an identity")
		}
		if r, _ := h.creds(id, logins, ""); r.status != http.StatusOK {
			t.Errorf("the first use's identity no longer works: %s", r.body)
		}
	})

	t.Run("bound to one identity, refused riding along another's login", func(t *testing.T) {
		// alice's own login proves her identity; dana's assertion, bound to
		// dana's identity, must not come along (and be bound) with it.
		alice := h.mustID(cogPoolID, h.logins("alice"))
		logins := h.logins("alice")
		logins[cogSAMLARN] = "good:pools"
		calls := len(h.sts.WebIdentityCalls())
		r, _ := h.creds(alice, logins, "")
		if r.errorType() != cognito.ErrNotAuthorized || !strings.Contains(string(r.body), alreadyUsed) {
			t.Fatalf("GetCredentialsForIdentity: HTTP %d %s", r.status, r.body)
		}
		if len(h.sts.WebIdentityCalls()) != calls {
			t.Error("STS was called")
		}
	})

	t.Run("bound by Cognito, refused at the ACS", func(t *testing.T) {
		h.mustID(cogPoolID, map[string]string{cogSAMLARN: "good:first-cognito"})
		if err := replay.Remember(ctx, "_a-first-cognito", h.clock.Now().Add(5*time.Minute)); !errors.Is(err, idp.ErrReplay) {
			t.Fatalf("ACS after Cognito: %v, want ErrReplay", err)
		}
	})

	t.Run("spent at the ACS, refused by Cognito and no identity made", func(t *testing.T) {
		if err := replay.Remember(ctx, "_a-first-acs", h.clock.Now().Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		before, calls := h.identities(), len(h.sts.WebIdentityCalls())
		logins := map[string]string{cogSAMLARN: "good:first-acs"}
		r := h.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": logins})
		if r.errorType() != cognito.ErrNotAuthorized || !strings.Contains(string(r.body), alreadyUsed) {
			t.Fatalf("GetId after the ACS: HTTP %d %s", r.status, r.body)
		}
		if h.identities() != before || len(h.sts.WebIdentityCalls()) != calls {
			t.Error("a replayed assertion stored an identity or called STS")
		}
	})

	t.Run("GetCredentialsForIdentity binds too", func(t *testing.T) {
		// dana's identity exists; a fresh assertion of hers goes straight to
		// GetCredentialsForIdentity, and is then hers alone.
		id := h.mustID(cogPoolID, map[string]string{cogSAMLARN: "good:pools"})
		logins := map[string]string{cogSAMLARN: "good:creds-only"}
		if r, _ := h.creds(id, logins, ""); r.status != http.StatusOK {
			t.Fatalf("GetCredentialsForIdentity: %s", r.body)
		}
		r := h.call("GetId", map[string]any{"IdentityPoolId": cogClosedID, "Logins": logins})
		if !strings.Contains(string(r.body), alreadyUsed) {
			t.Errorf("the assertion bound by GetCredentialsForIdentity was accepted in another pool: %s", r.body)
		}
	})

	t.Run("the binding ends when the assertion would", func(t *testing.T) {
		h.mustID(cogPoolID, map[string]string{cogSAMLARN: "good:expiring"})
		h.clock.Advance(6 * time.Minute)
		if err := replay.Remember(ctx, "_a-expiring", h.clock.Now().Add(time.Minute)); err != nil {
			t.Errorf("the entry outlived its assertion: %v", err)
		}
	})

	if logs := h.logs.String(); !strings.Contains(logs, "bound to another use") || !strings.Contains(logs, "was used at the ACS") {
		t.Errorf("the operator log does not say why replays were refused:\n%s", logs)
	}
}
