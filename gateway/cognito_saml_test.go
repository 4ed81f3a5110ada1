package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"fedgate/gateway/config"
	"fedgate/idp"
)

// cogFakeSAML stands in for a SAML provider (idp/saml.go has its own
// tests): it accepts the response "good" and records what it was asked.
type cogFakeSAML struct {
	mu         sync.Mutex
	requestIDs [][]string
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

// TestCognitoSAMLLogins: a SAML response comes under the pool's IAM SAML
// provider ARN, is consumed as unsolicited (no request of fedgate's), and
// maps to roles like any login.
func TestCognitoSAMLLogins(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:saml-provider/okta"
	h := newCogHarness(t)
	fake := &cogFakeSAML{}
	pool := h.srv.snap.Load().pools[cogPoolID]
	pool.cfg.SAMLProviderARN = arn
	pool.providers = append(pool.providers, &liveProvider{cfg: config.Provider{ID: "okta", Type: "saml"}, Provider: fake})

	id := h.mustID(cogPoolID, map[string]string{arn: "good"})
	if r, _ := h.creds(id, map[string]string{arn: "good"}, ""); r.status != http.StatusOK {
		t.Fatalf("GetCredentialsForIdentity: %s", r.body)
	}
	if got := h.sts.last(t).RoleARN; got != cogReaderRole {
		t.Errorf("role %s", got)
	}
	for _, ids := range fake.requestIDs {
		if len(ids) != 0 {
			t.Errorf("consumed as the answer to requests %v, want unsolicited", ids)
		}
	}
	// Another person's identity, a forged response, the ARN of another
	// pool's provider.
	alice := h.mustID(cogPoolID, h.logins("alice"))
	for name, tc := range map[string]struct {
		id     string
		logins map[string]string
		want   string
	}{
		"identity of another user": {alice, map[string]string{arn: "good"}, "is forbidden"},
		"forged response":          {id, map[string]string{arn: "forged"}, "The SAML response is not valid"},
		"other provider ARN":       {id, map[string]string{"arn:aws:iam::123456789012:saml-provider/other": "good"}, "not from a supported provider"},
	} {
		if r, _ := h.creds(tc.id, tc.logins, ""); r.errorType() != cogNotAuthorized || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s: %s", name, r.body)
		}
	}
}
