package gateway

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"fedgate/gateway/cognito"
	"fedgate/gateway/store"
)

// An identity linked to two providers vends with either; unlinking one
// leaves the other, and the unlinked login gets an identity of its own;
// logins of two identities merge them into the first login's.
func TestCognitoLinkTwoProviders(t *testing.T) {
	h := newCogHarness(t)
	withCogSAML(h)
	ctx := context.Background()
	corpKey := h.idp.loginKey()
	keyID, secret := h.accessKey("viewer", "")
	admin, _ := h.signedSDK(keyID, secret, 0)
	loginsOf := func(id string) []string {
		d, err := admin.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeIdentity(%s): %v", id, err)
		}
		return d.Logins
	}

	alice := h.mustID(cogPoolID, h.logins("alice"))
	both := h.logins("alice")
	both[cogSAMLARN] = "good:link"
	if got := h.mustID(cogPoolID, both); got != alice {
		t.Fatalf("GetId with alice's login and a new SAML login = %s, want alice's %s", got, alice)
	}
	if got := loginsOf(alice); len(got) != 2 || got[0] != corpKey || got[1] != cogSAMLARN {
		t.Fatalf("alice's logins = %v, want the OIDC key then the SAML ARN", got)
	}
	for name, logins := range map[string]map[string]string{"OIDC": h.logins("alice"), "SAML": {cogSAMLARN: "good:link"}} {
		r, out := h.creds(alice, logins, "")
		if r.status != http.StatusOK || out.IdentityId != alice {
			t.Fatalf("vend with the %s login only: HTTP %d %s", name, r.status, r.body)
		}
	}

	r := h.call("UnlinkIdentity", map[string]any{"IdentityId": alice, "Logins": h.logins("alice"), "LoginsToRemove": []string{cogSAMLARN}})
	if r.status != http.StatusOK || string(r.body) != "{}" {
		t.Fatalf("UnlinkIdentity: HTTP %d %s", r.status, r.body)
	}
	if got := loginsOf(alice); len(got) != 1 || got[0] != corpKey {
		t.Fatalf("after unlinking: %v", got)
	}
	if r, _ := h.creds(alice, map[string]string{cogSAMLARN: "good:link"}, ""); r.errorType() != cognito.ErrNotAuthorized {
		t.Errorf("the unlinked SAML login still vends for alice: %s", r.body)
	}
	if r, _ := h.creds(alice, h.logins("alice"), ""); r.status != http.StatusOK {
		t.Errorf("the remaining OIDC login: %s", r.body)
	}
	dana := h.mustID(cogPoolID, map[string]string{cogSAMLARN: "good:own"})
	if dana == alice {
		t.Fatal("the unlinked login found alice's identity")
	}

	// carol's and dana's identities merge into carol's, the first login's
	// in the pool's provider order.
	carol := h.mustID(cogPoolID, h.logins("carol"))
	merge := h.logins("carol")
	merge[cogSAMLARN] = "good:merge"
	if got := h.mustID(cogPoolID, merge); got != carol {
		t.Fatalf("GetId with carol's and dana's logins = %s, want carol's %s", got, carol)
	}
	if _, err := admin.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(dana)}); err == nil ||
		!strings.Contains(err.Error(), cognito.ErrResourceNotFound) {
		t.Errorf("the merged-away identity: %v", err)
	}
	if got := h.mustID(cogPoolID, map[string]string{cogSAMLARN: "good:after-merge"}); got != carol {
		t.Errorf("dana's login after the merge finds %s, want carol's %s", got, carol)
	}

	var reasons []string
	for _, e := range h.auditOf(store.AuditAdminChange) {
		reasons = append(reasons, e.IdentityID+" "+e.Reason)
	}
	joined := strings.Join(reasons, "\n")
	for _, want := range []string{alice + " login linked", alice + " login unlinked", carol + " identity " + dana + " merged"} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit lacks %q:\n%s", want, joined)
		}
	}
}

// UnlinkIdentity needs the identity's own logins, and names logins the
// identity has.
func TestCognitoUnlinkIdentityRefusals(t *testing.T) {
	h := newCogHarness(t)
	alice := h.mustID(cogPoolID, h.logins("alice"))
	for name, tc := range map[string]struct {
		body map[string]any
		want string
	}{
		"another user's logins":  {map[string]any{"IdentityId": alice, "Logins": h.logins("bob"), "LoginsToRemove": []string{h.idp.loginKey()}}, cognito.ErrNotAuthorized},
		"no logins":              {map[string]any{"IdentityId": alice, "LoginsToRemove": []string{h.idp.loginKey()}}, cognito.ErrNotAuthorized},
		"a login it has not got": {map[string]any{"IdentityId": alice, "Logins": h.logins("alice"), "LoginsToRemove": []string{"accounts.google.com"}}, cognito.ErrInvalidParameter},
		"unknown identity":       {map[string]any{"IdentityId": cogUnknownID, "Logins": h.logins("alice"), "LoginsToRemove": []string{h.idp.loginKey()}}, cognito.ErrResourceNotFound},
	} {
		if r := h.call("UnlinkIdentity", tc.body); r.errorType() != tc.want {
			t.Errorf("%s: %s, want %s", name, r.body, tc.want)
		}
	}
	if r, _ := h.creds(alice, h.logins("alice"), ""); r.status != http.StatusOK {
		t.Errorf("refused unlinks changed alice's identity: %s", r.body)
	}
}
