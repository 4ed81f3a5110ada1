package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"fedgate/exchange/issuer"
	"fedgate/gateway/cognito"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

const (
	cogDevName   = "login.example.app"
	cogDevClosed = "login.closed.app"
)

// withDevProviders gives both harness pools a developer provider.
func withDevProviders(f *config.File) {
	f.Pools[0].DeveloperProviderName = cogDevName
	f.Pools[1].DeveloperProviderName = cogDevClosed
}

// devClient is a backend: an editor key's signed client.
func (h *cogHarness) devClient(role, pool string) *cognitoidentity.Client {
	id, secret := h.accessKey(role, pool)
	c, _ := h.signedSDK(id, secret, 0)
	return c
}

// devToken runs GetOpenIdTokenForDeveloperIdentity for a user of pool.
func (h *cogHarness) devToken(c *cognitoidentity.Client, pool, name, user string, tags map[string]string, identityID string) (string, string, error) {
	in := &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(pool), Logins: map[string]string{name: user}, PrincipalTags: tags}
	if identityID != "" {
		in.IdentityId = aws.String(identityID)
	}
	out, err := c.GetOpenIdTokenForDeveloperIdentity(context.Background(), in)
	if err != nil {
		return "", "", err
	}
	return aws.ToString(out.IdentityId), aws.ToString(out.Token), nil
}

func devLogins(token string) map[string]string {
	return map[string]string{cognito.DeveloperLoginKey: token}
}

// TestCognitoDeveloperToken: the token's claims, its audience (the pool's
// only with the classic flow), its lifetime (TokenDuration up to the
// issuer's cap, refused above), the same user always gets the same
// identity, and the refusals of bad input store nothing.
func TestCognitoDeveloperToken(t *testing.T) {
	h := newCogHarness(t, withDevProviders)
	c := h.devClient(config.AdminEditor, "")
	id, token, err := h.devToken(c, cogPoolID, cogDevName, "user-1", map[string]string{"groups": "s3-readers"}, "")
	if err != nil {
		t.Fatal(err)
	}
	claims := h.verifyMinted(token)
	if claims["sub"] != id || claims["aud"] != cogPoolID || claims["iss"] != cogPublicURL {
		t.Errorf("claims = %v", claims)
	}
	amr, _ := claims["amr"].([]any)
	if len(amr) != 3 || amr[0] != "authenticated" || amr[1] != cogDevName || amr[2] != cogDevName+":"+cogPoolID+":user-1" {
		t.Errorf("amr = %v", amr)
	}
	if ttl := claims["exp"].(float64) - claims["iat"].(float64); ttl != issuer.MaxTokenTTL.Seconds() {
		t.Errorf("default lifetime %vs, want %v", ttl, issuer.MaxTokenTTL.Seconds())
	}
	again, _, err := h.devToken(c, cogPoolID, cogDevName, "user-1", nil, "")
	if err != nil || again != id {
		t.Errorf("same user: %q, %v; want %q", again, err, id)
	}
	_, closedTok, err := h.devToken(c, cogClosedID, cogDevClosed, "user-1", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if aud := jwtPayload(t, closedTok)["aud"]; aud != cogClosedID+":developer" {
		t.Errorf("without the classic flow, aud = %v; want the developer audience no role trusts", aud)
	}

	ctx := context.Background()
	before := h.identities()
	for _, tc := range []struct {
		name string
		in   *cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput
		want string
		life float64
	}{
		{name: "ten minutes", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{TokenDuration: aws.Int64(600)}, life: 600},
		{name: "one second", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{TokenDuration: aws.Int64(1)}, life: 1},
		{name: "past the cap", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{TokenDuration: aws.Int64(601)}, want: cognito.ErrInvalidParameter},
		{name: "past Cognito's limit", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{TokenDuration: aws.Int64(86401)}, want: cognito.ErrInvalidParameter},
		{name: "zero", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{TokenDuration: aws.Int64(0)}, want: cognito.ErrInvalidParameter},
		{name: "reserved tag", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{PrincipalTags: map[string]string{"sub": "x"}}, want: cognito.ErrInvalidParameter},
		{name: "no developer login", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: map[string]string{"other.example": "u"}}, want: cognito.ErrInvalidParameter},
		{name: "wrong provider name", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: map[string]string{cogDevClosed: "u"}}, want: cognito.ErrInvalidParameter},
		{name: "unknown login beside it", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: map[string]string{cogDevName: "new-user", "other.example": "t"}}, want: cognito.ErrNotAuthorized},
		{name: "unknown identity", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(cogUnknownID)}, want: cognito.ErrResourceNotFound},
		{name: "identity of another pool", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(again)}, want: cognito.ErrResourceNotFound},
		{name: "tags too long for a login", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{PrincipalTags: manyTags(50, 128, "<")}, want: cognito.ErrInvalidParameter},
		{name: "many tags within a login", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{PrincipalTags: manyTags(50, 40, "v")}, life: 600},
		{name: "control character", in: &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: map[string]string{cogDevName: "a\x01b"}}, want: cognito.ErrInvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.IdentityPoolId = aws.String(cogPoolID)
			if tc.name == "identity of another pool" {
				in.IdentityPoolId = aws.String(cogClosedID)
				in.Logins = map[string]string{cogDevClosed: "someone-new"}
			}
			if in.Logins == nil {
				in.Logins = map[string]string{cogDevName: "user-1"}
			}
			out, err := c.GetOpenIdTokenForDeveloperIdentity(ctx, in)
			if tc.want != "" {
				checkSignedError(t, err, tc.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cl := jwtPayload(t, aws.ToString(out.Token))
			if life := cl["exp"].(float64) - cl["iat"].(float64); life != tc.life {
				t.Errorf("lifetime %v, want %v", life, tc.life)
			}
		})
	}
	if n := h.identities(); n != before {
		t.Errorf("refusals changed the identities: %d, then %d", before, n)
	}
}

// TestCognitoDeveloperLogin: the app presents the token as the login
// cognito-identity.amazonaws.com; the rules apply to the developer
// login's claims; a token that is forged, expired, of another pool or
// identity, of another kind, or whose user was unlinked is refused, and
// each refusal is audited.
func TestCognitoDeveloperLogin(t *testing.T) {
	h := newCogHarness(t, withDevProviders)
	c := h.devClient(config.AdminEditor, "")
	reader, readerTok, err := h.devToken(c, cogPoolID, cogDevName, "reader-1", map[string]string{"groups": "s3-readers", "department": "eng"}, "")
	if err != nil {
		t.Fatal(err)
	}
	nobody, nobodyTok, err := h.devToken(c, cogPoolID, cogDevName, "nobody-1", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	_, closedTok, err := h.devToken(c, cogClosedID, cogDevClosed, "reader-1", map[string]string{"groups": "s3-readers"}, "")
	if err != nil {
		t.Fatal(err)
	}
	r, creds := h.creds(reader, devLogins(readerTok), "")
	if r.status != 200 || creds.IdentityId != reader || creds.Credentials.AccessKeyId == "" {
		t.Fatalf("GetCredentialsForIdentity with the developer token: HTTP %d %s", r.status, r.body)
	}
	in := h.sts.LastWebIdentity(t)
	if in.RoleARN != cogReaderRole {
		t.Errorf("role %q, want the readers rule's %q", in.RoleARN, cogReaderRole)
	}
	web := jwtPayload(t, in.Token)
	if web["sub"] != reader {
		t.Errorf("STS token sub = %v", web["sub"])
	}
	if tags, _ := web[issuer.ClaimTags].(map[string]any); tags == nil || !strings.Contains(fmt.Sprint(tags), "department:[eng]") {
		t.Errorf("session tags = %v; want department from the backend's principal tags", web[issuer.ClaimTags])
	}
	if r := h.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": devLogins(readerTok)}); r.status != 200 || !strings.Contains(string(r.body), reader) {
		t.Errorf("GetId with the developer token: HTTP %d %s", r.status, r.body)
	}

	other := newCogHarness(t, withDevProviders)
	_, forged, err := other.devToken(other.devClient(config.AdminEditor, ""), cogPoolID, cogDevName, "reader-1", map[string]string{"groups": "admins"}, "")
	if err != nil {
		t.Fatal(err)
	}
	classic := h.call("GetOpenIdToken", map[string]any{"IdentityId": h.mustID(cogPoolID, h.logins("alice")), "Logins": h.logins("alice")})
	var classicOut struct{ Token string }
	if err := json.Unmarshal(classic.body, &classicOut); err != nil || classicOut.Token == "" {
		t.Fatalf("GetOpenIdToken: HTTP %d %s", classic.status, classic.body)
	}
	classicTok := classicOut.Token
	for _, tc := range []struct {
		name, id, token, want string
		later                 time.Duration
	}{
		{name: "no rule matches", id: nobody, token: nobodyTok, want: cognito.ErrNotAuthorized},
		{name: "forged by another gateway", id: reader, token: forged, want: cognito.ErrNotAuthorized},
		{name: "another identity's id", id: nobody, token: readerTok, want: cognito.ErrNotAuthorized},
		{name: "another pool's token", id: reader, token: closedTok, want: cognito.ErrNotAuthorized},
		{name: "a GetOpenIdToken token", id: reader, token: classicTok, want: cognito.ErrNotAuthorized},
		{name: "not a JWT", id: reader, token: "x.y.z", want: cognito.ErrNotAuthorized},
		{name: "inside the skew", id: reader, token: readerTok, later: issuer.MaxTokenTTL + issuer.VerifySkew - time.Second},
		{name: "expired", id: reader, token: readerTok, later: time.Second, want: cognito.ErrNotAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.clock.Advance(tc.later)
			refusedBefore := len(h.auditOf(store.AuditVend))
			r, _ := h.creds(tc.id, devLogins(tc.token), "")
			if tc.want == "" {
				if r.status != 200 {
					t.Fatalf("HTTP %d %s", r.status, r.body)
				}
				return
			}
			if r.errorType() != tc.want {
				t.Fatalf("HTTP %d %s; want %s", r.status, r.body, tc.want)
			}
			if n := len(h.auditOf(store.AuditVend)); n != refusedBefore+1 {
				t.Errorf("refusal audited %d times", n-refusedBefore)
			}
		})
	}

	// Unlinked, the user's token no longer opens the identity.
	h2 := newCogHarness(t, withDevProviders)
	c2 := h2.devClient(config.AdminEditor, "")
	id, tok, err := h2.devToken(c2, cogPoolID, cogDevName, "leaver", map[string]string{"groups": "s3-readers"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.UnlinkDeveloperIdentity(context.Background(), &cognitoidentity.UnlinkDeveloperIdentityInput{IdentityId: aws.String(id),
		IdentityPoolId: aws.String(cogPoolID), DeveloperProviderName: aws.String(cogDevName), DeveloperUserIdentifier: aws.String("leaver")}); err != nil {
		t.Fatal(err)
	}
	if r, _ := h2.creds(id, devLogins(tok), ""); r.errorType() != cognito.ErrNotAuthorized {
		t.Errorf("after UnlinkDeveloperIdentity: HTTP %d %s", r.status, r.body)
	}
	before := h2.identities()
	if r := h2.call("GetId", map[string]any{"IdentityPoolId": cogPoolID, "Logins": devLogins(tok)}); r.errorType() != cognito.ErrNotAuthorized {
		t.Errorf("GetId after UnlinkDeveloperIdentity: HTTP %d %s", r.status, r.body)
	}
	if n := h2.identities(); n != before {
		t.Errorf("an unlinked user's old token made an identity")
	}
	again, _, err := h2.devToken(c2, cogPoolID, cogDevName, "leaver", nil, "")
	if err != nil || again == id {
		t.Errorf("an unlinked user gets a new identity: %q, %v (old %q)", again, err, id)
	}
}

// TestCognitoDeveloperLinking: IdentityId links a developer user to an
// existing identity (then either login vends); a user of another identity
// is DeveloperUserAlreadyRegisteredException and nothing moves; other
// logins beside the developer's are verified and linked; Merge, Lookup
// (paged) and Unlink; every change is audited under the key.
func TestCognitoDeveloperLinking(t *testing.T) {
	h := newCogHarness(t, withDevProviders)
	ctx := context.Background()
	keyID, secret := h.accessKey(config.AdminEditor, "")
	c, _ := h.signedSDK(keyID, secret, 0)
	alice := h.mustID(cogPoolID, h.logins("alice"))
	id, tok, err := h.devToken(c, cogPoolID, cogDevName, "alice-dev", map[string]string{"groups": "s3-readers"}, alice)
	if err != nil || id != alice {
		t.Fatalf("linking to alice's identity: %q, %v", id, err)
	}
	if r, _ := h.creds(alice, devLogins(tok), ""); r.status != 200 {
		t.Errorf("developer login of the linked identity: HTTP %d %s", r.status, r.body)
	}
	if r, _ := h.creds(alice, h.logins("alice"), ""); r.status != 200 {
		t.Errorf("alice's own login after the link: HTTP %d %s", r.status, r.body)
	}
	d, err := c.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: aws.String(alice)})
	if err != nil || !slices.Contains(d.Logins, cogDevName) || !slices.Contains(d.Logins, h.idp.loginKey()) {
		t.Errorf("DescribeIdentity of alice = %+v, %v; want her IdP's login key and the developer provider", d, err)
	}
	bob := h.mustID(cogPoolID, h.logins("bob"))
	_, _, err = h.devToken(c, cogPoolID, cogDevName, "alice-dev", nil, bob)
	checkSignedError(t, err, cognito.ErrDeveloperUserAlreadyRegistered)
	if owner, _ := h.store.IdentityOfLogin(ctx, store.IdentityKey{PoolID: cogPoolID, Provider: store.DeveloperProvider, Subject: "alice-dev"}); owner != alice {
		t.Errorf("refused link moved the user to %q", owner)
	}
	// Carol's OIDC login beside a new developer user: one identity.
	carol, _, err := func() (string, string, error) {
		out, err := c.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(cogPoolID),
			Logins: map[string]string{cogDevName: "carol-dev", h.idp.loginKey(): h.token("carol")}})
		if err != nil {
			return "", "", err
		}
		return aws.ToString(out.IdentityId), aws.ToString(out.Token), nil
	}()
	if err != nil || h.mustID(cogPoolID, h.logins("carol")) != carol {
		t.Errorf("carol's OIDC login is not linked to her developer identity: %q, %v", carol, err)
	}

	// Merge: bob-dev's identity into alice's.
	if _, _, err := h.devToken(c, cogPoolID, cogDevName, "bob-dev", nil, bob); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice-dev-2", "alice-dev-3"} {
		if _, _, err := h.devToken(c, cogPoolID, cogDevName, u, nil, alice); err != nil {
			t.Fatal(err)
		}
	}
	merge := func(src, dst, name string) (*cognitoidentity.MergeDeveloperIdentitiesOutput, error) {
		return c.MergeDeveloperIdentities(ctx, &cognitoidentity.MergeDeveloperIdentitiesInput{IdentityPoolId: aws.String(cogPoolID),
			SourceUserIdentifier: aws.String(src), DestinationUserIdentifier: aws.String(dst), DeveloperProviderName: aws.String(name)})
	}
	_, err = merge("bob-dev", "alice-dev", "login.other.app")
	checkSignedError(t, err, cognito.ErrInvalidParameter)
	_, err = merge("nobody", "alice-dev", cogDevName)
	checkSignedError(t, err, cognito.ErrResourceNotFound)
	// Bob and alice are two users of one OIDC provider: no merge.
	_, err = merge("bob-dev", "alice-dev", cogDevName)
	checkSignedError(t, err, cognito.ErrResourceConflict)
	if _, err := h.srv.core.Store().LookupIdentity(ctx, bob); err != nil {
		t.Fatalf("refused merge deleted bob: %v", err)
	}
	dave, _, err := h.devToken(c, cogPoolID, cogDevName, "dave-dev", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := merge("dave-dev", "alice-dev", cogDevName)
	if err != nil || aws.ToString(out.IdentityId) != alice {
		t.Fatalf("merge = %v, %v", out, err)
	}
	if _, err := h.srv.core.Store().LookupIdentity(ctx, dave); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("merged-away identity still there: %v", err)
	}
	if out, err := merge("dave-dev", "alice-dev", cogDevName); err != nil || aws.ToString(out.IdentityId) != alice {
		t.Errorf("merging users of one identity is no change: %v, %v", out, err)
	}

	// Lookup, by user and by identity, paged two at a time.
	viewer := h.devClient(config.AdminViewer, "")
	var got []string
	var next *string
	for range 5 {
		l, err := viewer.LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(cogPoolID),
			DeveloperUserIdentifier: aws.String("dave-dev"), MaxResults: aws.Int32(2), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(l.IdentityId) != alice || len(l.DeveloperUserIdentifierList) > 2 {
			t.Fatalf("lookup page = %+v", l)
		}
		got = append(got, l.DeveloperUserIdentifierList...)
		if next = l.NextToken; next == nil {
			break
		}
	}
	if want := []string{"alice-dev", "alice-dev-2", "alice-dev-3", "dave-dev"}; !slices.Equal(got, want) {
		t.Errorf("developer users of alice = %v, want %v", got, want)
	}
	l, err := viewer.LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(cogPoolID), IdentityId: aws.String(alice), MaxResults: aws.Int32(2)})
	if err != nil || l.NextToken == nil {
		t.Fatalf("lookup by identity: %+v, %v", l, err)
	}
	for _, bad := range []*cognitoidentity.LookupDeveloperIdentityInput{
		{IdentityId: aws.String(bob), NextToken: l.NextToken},        // another identity's token
		{IdentityId: aws.String(alice), NextToken: aws.String("eA")}, // forged
		{IdentityId: aws.String(alice), MaxResults: aws.Int32(61)},
		{},
	} {
		bad.IdentityPoolId = aws.String(cogPoolID)
		_, err := viewer.LookupDeveloperIdentity(ctx, bad)
		checkSignedError(t, err, cognito.ErrInvalidParameter)
	}
	_, err = viewer.LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(cogPoolID),
		IdentityId: aws.String(bob), DeveloperUserIdentifier: aws.String("alice-dev")})
	checkSignedError(t, err, cognito.ErrResourceConflict)
	_, _, err = h.devToken(viewer, cogPoolID, cogDevName, "viewer-made", nil, "")
	checkSignedError(t, err, cognito.ErrAccessDenied)
	_, err = h.devClient(config.AdminEditor, cogClosedID).LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(cogPoolID), IdentityId: aws.String(alice)})
	checkSignedError(t, err, cognito.ErrAccessDenied)

	// Unlink: a user of another identity is a conflict.
	unlink := func(id, user string) error {
		_, err := c.UnlinkDeveloperIdentity(ctx, &cognitoidentity.UnlinkDeveloperIdentityInput{IdentityId: aws.String(id), IdentityPoolId: aws.String(cogPoolID),
			DeveloperProviderName: aws.String(cogDevName), DeveloperUserIdentifier: aws.String(user)})
		return err
	}
	checkSignedError(t, unlink(bob, "alice-dev"), cognito.ErrResourceConflict)
	if err := unlink(alice, "alice-dev-2"); err != nil {
		t.Fatal(err)
	}
	checkSignedError(t, unlink(alice, "alice-dev-2"), cognito.ErrResourceNotFound)

	// Every change is an admin_change by the key.
	var reasons []string
	for _, e := range h.auditOf(store.AuditAdminChange) {
		if e.Actor == "access-key:"+keyID {
			reasons = append(reasons, e.Reason)
		}
	}
	for _, want := range []string{"developer user linked to the identity", "identity created for the developer user", "login linked to the identity",
		"identity " + dave + " merged into this identity", "login unlinked from the identity"} {
		if !slices.Contains(reasons, want) {
			t.Errorf("no %q audited under the key; have %q", want, reasons)
		}
	}
	issued := 0
	for _, e := range h.auditOf(store.AuditVend) {
		if strings.HasPrefix(e.Reason, "developer identity token") && e.Actor == "access-key:"+keyID {
			issued++
		}
	}
	if issued == 0 {
		t.Error("developer tokens not audited")
	}
}

// TestCognitoDeveloperProviderName: pools carry DeveloperProviderName in
// and out; once set it cannot change.
func TestCognitoDeveloperProviderName(t *testing.T) {
	h := newCogHarness(t)
	ctx := context.Background()
	c := h.devClient(config.AdminEditor, "")
	created, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("Backend"),
		DeveloperProviderName: aws.String("login.backend.app")})
	if err != nil || aws.ToString(created.DeveloperProviderName) != "login.backend.app" {
		t.Fatalf("create = %+v, %v", created, err)
	}
	pool := aws.ToString(created.IdentityPoolId)
	if _, _, err := h.devToken(c, pool, "login.backend.app", "u1", nil, ""); err != nil {
		t.Errorf("a developer-only pool: %v", err)
	}
	update := func(name string) error {
		in := &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(pool), IdentityPoolName: aws.String("Backend")}
		if name != "" {
			in.DeveloperProviderName = aws.String(name)
		}
		_, err := c.UpdateIdentityPool(ctx, in)
		return err
	}
	checkSignedError(t, update("login.renamed.app"), cognito.ErrInvalidParameter)
	if err := update("login.backend.app"); err != nil {
		t.Errorf("same name: %v", err)
	}
	if err := update(""); err != nil {
		t.Errorf("name left out: %v", err)
	}
	d, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(pool)})
	if err != nil || aws.ToString(d.DeveloperProviderName) != "login.backend.app" {
		t.Errorf("describe = %+v, %v", d, err)
	}
	for _, bad := range []string{"has space", strings.Repeat("a", 101)} {
		_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("x"), DeveloperProviderName: aws.String(bad)})
		checkSignedError(t, err, cognito.ErrInvalidParameter)
	}
	// A pool without one refuses the developer operations.
	_, _, err = h.devToken(c, cogPoolID, "login.example.app", "u", nil, "")
	checkSignedError(t, err, cognito.ErrInvalidParameter)
}

// manyTags makes n PrincipalTags with distinct keys of keyLen characters,
// each value 256 copies of char.
func manyTags(n, keyLen int, char string) map[string]string {
	tags := make(map[string]string, n)
	for i := range n {
		k := fmt.Sprintf("%03d", i)
		tags[k+strings.Repeat("k", keyLen-len(k))] = strings.Repeat(char, 256)
	}
	return tags
}
