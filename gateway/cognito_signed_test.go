package gateway

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"

	"fedgate/gateway/cognito"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// clockSigner signs with the harness clock instead of the machine's, so
// signatures fall inside the gateway's window; skew shifts it.
type clockSigner struct {
	now  func() time.Time
	skew time.Duration
}

func (s clockSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, opts ...func(*v4.SignerOptions)) error {
	return v4.NewSigner().SignHTTP(ctx, creds, r, payloadHash, service, region, s.now().Add(s.skew), opts...)
}

// accessKey creates an access key in the harness's store.
func (h *cogHarness) accessKey(role, pool string) (id, secret string) {
	h.t.Helper()
	k, secret, err := h.srv.core.AccessKeys().Create(context.Background(), core.NewAccessKey{Name: role + " key", Role: role, PoolID: pool}, "test")
	if err != nil {
		h.t.Fatal(err)
	}
	return k.ID, secret
}

// signedSDK is the AWS SDK for Go's client signing with an access key.
func (h *cogHarness) signedSDK(id, secret string, skew time.Duration) (*cognitoidentity.Client, *cogWire) {
	w := &cogWire{h: h.srv.Handler()}
	return cognitoidentity.New(cognitoidentity.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("https://cognito-identity.fedgate.test"),
		HTTPClient: w, RetryMaxAttempts: 1,
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
		HTTPSignerV4: clockSigner{now: h.clock.Now, skew: skew},
	}), w
}

// auditOf lists the audit entries of one kind, newest first.
func (h *cogHarness) auditOf(kind string) []store.AuditEntry {
	h.t.Helper()
	entries, err := h.store.ListAudit(context.Background(), store.AuditQuery{Kind: kind})
	if err != nil {
		h.t.Fatal(err)
	}
	return entries
}

// A viewer's key reads but cannot delete; a key for one pool cannot
// touch another; a disabled key is refused; every use, accepted or not,
// is in the audit log under the key's id.
func TestCognitoSignedRolesScopeAndAudit(t *testing.T) {
	h := newCogHarness(t)
	ctx := context.Background()
	alice := h.mustID(cogPoolID, h.logins("alice"))
	viewerID, viewerSecret := h.accessKey("viewer", "")
	viewer, _ := h.signedSDK(viewerID, viewerSecret, 0)

	d, err := viewer.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(alice)})
	if err != nil || aws.ToString(d.IdentityId) != alice || len(d.Logins) != 1 || d.Logins[0] != h.idp.loginKey() {
		t.Fatalf("viewer DescribeIdentity = %+v, %v; want alice's identity with her login key", d, err)
	}
	_, err = viewer.DeleteIdentities(ctx, &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: []string{alice}})
	checkSignedError(t, err, cognito.ErrAccessDenied)
	if _, err := h.store.LookupIdentity(ctx, alice); err != nil {
		t.Fatalf("a viewer's refused delete removed the identity: %v", err)
	}

	scopedID, scopedSecret := h.accessKey("editor", cogClosedID)
	scoped, _ := h.signedSDK(scopedID, scopedSecret, 0)
	_, err = scoped.ListIdentities(ctx, &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(cogPoolID), MaxResults: aws.Int32(10)})
	checkSignedError(t, err, cognito.ErrAccessDenied)
	del, err := scoped.DeleteIdentities(ctx, &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: []string{alice}})
	if err != nil || len(del.UnprocessedIdentityIds) != 1 || aws.ToString(del.UnprocessedIdentityIds[0].IdentityId) != alice ||
		string(del.UnprocessedIdentityIds[0].ErrorCode) != "AccessDenied" {
		t.Fatalf("a key of another pool deleting = %+v, %v; want alice unprocessed with AccessDenied", del, err)
	}
	pools, err := scoped.ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil || len(pools.IdentityPools) != 1 || aws.ToString(pools.IdentityPools[0].IdentityPoolId) != cogClosedID {
		t.Fatalf("a scoped key lists %+v, %v; want only its pool", pools, err)
	}

	if err := h.srv.core.AccessKeys().SetDisabled(ctx, viewerID, true, "test"); err != nil {
		t.Fatal(err)
	}
	_, err = viewer.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(alice)})
	checkSignedError(t, err, cognito.ErrUnrecognizedClient)

	uses := h.auditOf(store.AuditAccessKey)
	want := []struct{ actor, result, reason string }{
		{viewerID, store.AuditRefused, "DescribeIdentity: UnrecognizedClientException"},
		{scopedID, store.AuditOK, "ListIdentityPools"},
		{scopedID, store.AuditOK, "DeleteIdentities"},
		{scopedID, store.AuditRefused, "ListIdentities: AccessDeniedException"},
		{viewerID, store.AuditRefused, "DeleteIdentities: AccessDeniedException"},
		{viewerID, store.AuditOK, "DescribeIdentity"},
	}
	if len(uses) != len(want) {
		t.Fatalf("audit has %d access key entries, want %d: %+v", len(uses), len(want), uses)
	}
	for i, w := range want {
		u := uses[i]
		if u.Actor != "access-key:"+w.actor || u.Result != w.result || u.Reason != w.reason || u.Source == "" || u.RequestID == "" {
			t.Errorf("audit[%d] = %+v; want actor %s, %s, %q, with source and request id", i, u, w.actor, w.result, w.reason)
		}
	}
}

// DeleteIdentities deletes what the key may delete, skips unknown ids,
// audits each deletion, and the deleted login gets a new identity.
func TestCognitoDeleteIdentities(t *testing.T) {
	h := newCogHarness(t)
	ctx := context.Background()
	alice := h.mustID(cogPoolID, h.logins("alice"))
	guest := h.mustID(cogPoolID, nil)
	id, secret := h.accessKey("editor", "")
	c, _ := h.signedSDK(id, secret, 0)
	out, err := c.DeleteIdentities(ctx, &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: []string{alice, guest, cogUnknownID}})
	if err != nil || len(out.UnprocessedIdentityIds) != 0 {
		t.Fatalf("DeleteIdentities = %+v, %v", out, err)
	}
	for _, gone := range []string{alice, guest} {
		_, err := c.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(gone)})
		checkSignedError(t, err, cognito.ErrResourceNotFound)
	}
	if again := h.mustID(cogPoolID, h.logins("alice")); again == alice {
		t.Errorf("alice got her deleted identity %s back", alice)
	}
	changes := h.auditOf(store.AuditAdminChange)
	deleted := map[string]bool{}
	for _, e := range changes {
		if e.Actor == "access-key:"+id && strings.HasPrefix(e.Reason, "identity deleted") {
			deleted[e.IdentityID] = true
		}
	}
	if !deleted[alice] || !deleted[guest] || len(deleted) != 2 {
		t.Errorf("deletions audited: %v; want alice's and the guest's", deleted)
	}
	ids := make([]string, 61)
	for i := range ids {
		ids[i] = cogUnknownID
	}
	_, err = c.DeleteIdentities(ctx, &cognitoidentity.DeleteIdentitiesInput{IdentityIdsToDelete: ids})
	checkSignedError(t, err, cognito.ErrInvalidParameter)
}

// ListIdentities pages through a pool's identities with NextToken.
func TestCognitoListIdentitiesPages(t *testing.T) {
	h := newCogHarness(t)
	ctx := context.Background()
	want := map[string]bool{}
	for range 5 {
		want[h.mustID(cogPoolID, nil)] = true
	}
	want[h.mustID(cogPoolID, h.logins("alice"))] = true
	h.mustID(cogClosedID, h.logins("alice")) // another pool's
	id, secret := h.accessKey("viewer", cogPoolID)
	c, _ := h.signedSDK(id, secret, 0)
	got := map[string]bool{}
	pages := 0
	var next *string
	for {
		out, err := c.ListIdentities(ctx, &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(cogPoolID), MaxResults: aws.Int32(4), NextToken: next, HideDisabled: true})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, d := range out.Identities {
			got[aws.ToString(d.IdentityId)] = true
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	if pages != 2 || len(got) != len(want) {
		t.Fatalf("%d pages with %d identities, want 2 pages with %d", pages, len(got), len(want))
	}
	for w := range want {
		if !got[w] {
			t.Errorf("identity %s not listed", w)
		}
	}
	_, err := c.ListIdentities(ctx, &cognitoidentity.ListIdentitiesInput{IdentityPoolId: aws.String(cogPoolID), MaxResults: aws.Int32(4), NextToken: aws.String("forged")})
	checkSignedError(t, err, cognito.ErrInvalidParameter)
}

func checkSignedError(t *testing.T, err error, want string) {
	t.Helper()
	checkSDKError(t, err, want)
}

// CreateIdentityPool makes a pool apps can use at once; a viewer's key
// cannot create or delete one; DeleteIdentityPool removes it as a version
// of the history, by the key, audited.
func TestCognitoCreateAndDeletePool(t *testing.T) {
	h := newCogHarness(t)
	ctx := context.Background()
	viewerID, viewerSecret := h.accessKey("viewer", "")
	viewer, _ := h.signedSDK(viewerID, viewerSecret, 0)
	editorID, editorSecret := h.accessKey("editor", "")
	editor, _ := h.signedSDK(editorID, editorSecret, 0)
	create := &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("Partner App"), SupportedLoginProviders: map[string]string{h.idp.loginKey(): "x"}}
	_, err := viewer.CreateIdentityPool(ctx, create)
	checkSignedError(t, err, cognito.ErrAccessDenied)
	made, err := editor.CreateIdentityPool(ctx, create)
	if err != nil || !strings.HasPrefix(aws.ToString(made.IdentityPoolId), "us-east-1:") || aws.ToString(made.IdentityPoolName) != "Partner App" {
		t.Fatalf("CreateIdentityPool = %+v, %v", made, err)
	}
	pool := aws.ToString(made.IdentityPoolId)
	if id := h.mustID(pool, h.logins("alice")); id == "" {
		t.Fatal("GetId in the new pool")
	}
	_, err = viewer.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(pool)})
	checkSignedError(t, err, cognito.ErrAccessDenied)
	if _, err := editor.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: aws.String(pool)}); err != nil {
		t.Fatal(err)
	}
	_, err = viewer.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(pool)})
	checkSignedError(t, err, cognito.ErrResourceNotFound)
	versions, err := h.store.ListConfigs(ctx, 0, 10)
	if err != nil || len(versions) < 3 || versions[0].Author != "access-key:"+editorID || versions[0].Source != "cognito-api" ||
		!strings.Contains(versions[0].Comment, "deleted") || !strings.Contains(versions[1].Comment, `"Partner App" created`) {
		t.Fatalf("history: %+v, %v", versions, err)
	}
	changes := h.auditOf(store.AuditAdminChange)
	if len(changes) < 2 || changes[0].Pool != pool || changes[0].Version != versions[0].Version || changes[0].Actor != "access-key:"+editorID {
		t.Errorf("audit of the deletion: %+v", changes)
	}
}

// SetIdentityPoolRoles writes Cognito's roles and rules onto the pool,
// GetIdentityPoolRoles reads them back the same, and the rules decide the
// next vend; UpdateIdentityPool turns guests on once the guest role is set.
func TestCognitoSetIdentityPoolRolesRoundTrip(t *testing.T) {
	h := newCogHarness(t)
	ctx := context.Background()
	id, secret := h.accessKey("editor", "")
	c, _ := h.signedSDK(id, secret, 0)
	key := h.idp.loginKey()
	mapping := citypes.RoleMapping{Type: citypes.RoleMappingTypeRules, AmbiguousRoleResolution: citypes.AmbiguousRoleResolutionTypeAuthenticatedRole,
		RulesConfiguration: &citypes.RulesConfigurationType{Rules: []citypes.MappingRule{
			{Claim: aws.String("groups"), MatchType: citypes.MappingRuleMatchTypeContains, Value: aws.String("admins"), RoleARN: aws.String(cogAdminRole)},
			{Claim: aws.String("email"), MatchType: citypes.MappingRuleMatchTypeStartsWith, Value: aws.String("alice@"), RoleARN: aws.String(cogReaderRole)},
		}}}
	_, err := c.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(cogClosedID),
		Roles: map[string]string{"authenticated": cogReaderRole, "unauthenticated": cogGuestRole}, RoleMappings: map[string]citypes.RoleMapping{key: mapping}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetIdentityPoolRoles(ctx, &cognitoidentity.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(cogClosedID)})
	if err != nil {
		t.Fatal(err)
	}
	back := got.RoleMappings[key]
	if got.Roles["authenticated"] != cogReaderRole || got.Roles["unauthenticated"] != cogGuestRole || back.Type != mapping.Type ||
		back.AmbiguousRoleResolution != mapping.AmbiguousRoleResolution || len(back.RulesConfiguration.Rules) != 2 ||
		back.RulesConfiguration.Rules[0].MatchType != citypes.MappingRuleMatchTypeContains || aws.ToString(back.RulesConfiguration.Rules[1].Value) != "alice@" {
		t.Fatalf("GetIdentityPoolRoles after Set = %+v", got)
	}
	carol := h.mustID(cogClosedID, h.logins("carol"))
	if r, _ := h.creds(carol, h.logins("carol"), ""); r.status != http.StatusOK || h.sts.LastWebIdentity(t).RoleARN != cogAdminRole {
		t.Fatalf("carol (an admin) after the new rules: %s", r.body)
	}
	_, err = c.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(cogClosedID),
		Roles: map[string]string{"authenticated": cogReaderRole}, RoleMappings: map[string]citypes.RoleMapping{key: mapping, "accounts.google.com": {Type: citypes.RoleMappingTypeToken}}})
	checkSignedError(t, err, cognito.ErrInvalidParameter)

	up, err := c.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(cogClosedID), IdentityPoolName: aws.String("Closed Beta"),
		AllowUnauthenticatedIdentities: true, SupportedLoginProviders: map[string]string{key: "x"}})
	if err != nil || !up.AllowUnauthenticatedIdentities || aws.ToString(up.IdentityPoolName) != "Closed Beta" {
		t.Fatalf("UpdateIdentityPool = %+v, %v", up, err)
	}
	if guest := h.mustID(cogClosedID, nil); guest == "" {
		t.Error("no guest after UpdateIdentityPool allowed them")
	}
}
