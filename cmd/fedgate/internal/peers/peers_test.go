package peers

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// fakeTB records how required stopped the test instead of stopping it.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }
func (f *fakeTB) Skipf(format string, args ...any)  { f.skip = fmt.Sprintf(format, args...) }

func TestRequired(t *testing.T) {
	tests := []struct {
		name      string
		inCI      bool
		wantFatal bool
	}{
		{name: "CI fails", inCI: true, wantFatal: true},
		{name: "local skips", inCI: false, wantFatal: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTB{}
			required(f, "moto", tc.inCI)
			got, other := f.skip, f.fatal
			if tc.wantFatal {
				got, other = f.fatal, f.skip
			}
			if !strings.Contains(got, "moto") || other != "" {
				t.Errorf("fatal=%q skip=%q, want only the %v message naming moto", f.fatal, f.skip, map[bool]string{true: "fatal", false: "skip"}[tc.wantFatal])
			}
		})
	}
}

func TestModuleRoot(t *testing.T) {
	root := t.TempDir()
	nested := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, want string
	}{
		{name: "at root", from: root, want: root},
		{name: "nested", from: nested, want: root},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := moduleRoot(tc.from)
			if err != nil || got != tc.want {
				t.Errorf("moduleRoot(%s) = %q, %v; want %q", tc.from, got, err, tc.want)
			}
		})
	}
	if _, err := moduleRoot(string(filepath.Separator)); err == nil {
		t.Error("moduleRoot(/) found a go.mod; want errNoModuleRoot")
	}
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "oidc-idp.mjs")); err != nil {
		t.Errorf("Dir() = %s, which has no oidc-idp.mjs: %v", dir, err)
	}
}

const readerTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 "Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/fedgate.example"},
 "Action":["sts:AssumeRoleWithWebIdentity","sts:AssumeRoleWithSAML","sts:TagSession"]}]}`

const readerPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::allowed-bucket"},
 {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::allowed-bucket/*"}]}`

// samlResponse is the least moto's AssumeRoleWithSAML parses: a Role and a session name.
func samlResponse(roleARN string) string {
	return base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">
<saml:Assertion><saml:AttributeStatement>
<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><saml:AttributeValue>` + roleARN + `,arn:aws:iam::123456789012:saml-provider/idp</saml:AttributeValue></saml:Attribute>
<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>alice</saml:AttributeValue></saml:Attribute>
</saml:AttributeStatement></saml:Assertion></samlp:Response>`))
}

func TestMotoEnforcesRolePolicy(t *testing.T) {
	m := StartMoto(t)
	ctx := context.Background()
	m.CreateBucket(t, "allowed-bucket", map[string]string{"doc.txt": "allowed body"})
	m.CreateBucket(t, "other-bucket", map[string]string{"doc.txt": "other body"})
	roleARN := m.CreateRole(t, "reader", readerTrust, readerPolicy)

	// Unsigned, with a token moto never parses: moto checks neither token nor trust.
	web, err := m.UnsignedSTS().AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(roleARN),
		RoleSessionName:  aws.String("alice"),
		WebIdentityToken: aws.String("header.payload.signature"),
	})
	if err != nil {
		t.Fatalf("unsigned AssumeRoleWithWebIdentity: %v", err)
	}
	saml, err := m.UnsignedSTS().AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{
		RoleArn:       aws.String(roleARN),
		PrincipalArn:  aws.String("arn:aws:iam::123456789012:saml-provider/idp"),
		SAMLAssertion: aws.String(samlResponse(roleARN)),
	})
	if err != nil {
		t.Fatalf("unsigned AssumeRoleWithSAML: %v", err)
	}

	sessions := map[string]aws.Credentials{
		"web identity": Creds(web.Credentials.AccessKeyId, web.Credentials.SecretAccessKey, web.Credentials.SessionToken),
		"saml":         Creds(saml.Credentials.AccessKeyId, saml.Credentials.SecretAccessKey, saml.Credentials.SessionToken),
	}
	tests := []struct {
		name       string
		call       func(*s3.Client) error
		wantDenied bool
	}{
		{name: "list allowed bucket", call: listBucket("allowed-bucket")},
		{name: "get from allowed bucket", call: getObject("allowed-bucket", "doc.txt", "allowed body")},
		{name: "put into allowed bucket", call: putObject("allowed-bucket", "new.txt"), wantDenied: true},
		{name: "list other bucket", call: listBucket("other-bucket"), wantDenied: true},
		{name: "get from other bucket", call: getObject("other-bucket", "doc.txt", "other body"), wantDenied: true},
	}
	for session, creds := range sessions {
		client := S3With(m, creds)
		for _, tc := range tests {
			t.Run(session+"/"+tc.name, func(t *testing.T) {
				err := tc.call(client)
				switch {
				case tc.wantDenied && !IsAccessDenied(err):
					t.Errorf("got %v, want AccessDenied", err)
				case !tc.wantDenied && err != nil:
					t.Errorf("got %v, want success", err)
				}
			})
		}
	}

	t.Run("admin may put", func(t *testing.T) {
		if err := putObject("other-bucket", "admin.txt")(S3With(m, m.AdminCredentials)); err != nil {
			t.Errorf("admin put: %v", err)
		}
	})
	t.Run("unknown key is rejected", func(t *testing.T) {
		err := listBucket("allowed-bucket")(S3With(m, Creds(aws.String("AKIAUNKNOWNUNKNOWN00"), aws.String("nope"), nil)))
		if err == nil {
			t.Error("an unknown access key listed the bucket; enforcement is off")
		}
	})
}

func listBucket(bucket string) func(*s3.Client) error {
	return func(c *s3.Client) error {
		_, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		return err
	}
}

func getObject(bucket, key, wantBody string) func(*s3.Client) error {
	return func(c *s3.Client) error {
		out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		body, err := io.ReadAll(out.Body)
		if err == nil && string(body) != wantBody {
			err = fmt.Errorf("body %q, want %q", body, wantBody)
		}
		return err
	}
}

func putObject(bucket, key string) func(*s3.Client) error {
	return func(c *s3.Client) error {
		_, err := c.PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("x"),
		})
		return err
	}
}

func TestOIDCLoginAndCodeExchange(t *testing.T) {
	// The relying party: /start sends the browser to the IdP; /callback must never be
	// reached because Login stops at the redirect into it.
	var callbackHits atomic.Int32
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/start":
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
		default:
			callbackHits.Add(1)
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(rp.Close)
	redirectURI := rp.URL + "/callback"
	client := OIDCClient{ID: "fedgate-web", Secret: "web-secret", RedirectURIs: []string{redirectURI}}
	idp := StartOIDC(t, []OIDCClient{client})
	ctx := oidc.ClientContext(context.Background(), &http.Client{Timeout: httpTimeout})

	provider, err := oidc.NewProvider(ctx, idp.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{
		ClientID: client.ID, ClientSecret: client.Secret, RedirectURL: redirectURI,
		Endpoint: provider.Endpoint(),
		Scopes:   []string{oidc.ScopeOpenID, "profile", "email", "groups"},
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: client.ID, SupportedSigningAlgs: []string{oidc.RS256}})

	tests := []struct {
		user, department, email string
		groups                  []string
		viaRelyingParty         bool
	}{
		{user: "alice", department: "eng", email: "alice@example.com", groups: []string{"engineering", "s3-readers"}, viaRelyingParty: true},
		{user: "bob", department: "sales", email: "bob@example.com", groups: []string{"sales"}},
		{user: "carol", department: "eng", email: "carol@example.com", groups: []string{"engineering", "admins"}, viaRelyingParty: true},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			state, nonce, pkce := "state-"+tc.user, "nonce-"+tc.user, oauth2.GenerateVerifier()
			authURL := conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(pkce))
			if tc.viaRelyingParty {
				authURL = rp.URL + "/start?to=" + url.QueryEscape(authURL)
			}
			callback := idp.Login(t, newBrowser(t), authURL, tc.user)

			q := callback.Query()
			if got := callback.Scheme + "://" + callback.Host + callback.Path; got != redirectURI {
				t.Errorf("stopped at %s, want %s", got, redirectURI)
			}
			if q.Get("state") != state || q.Get("iss") != idp.Issuer {
				t.Errorf("state=%q iss=%q, want %q and %q", q.Get("state"), q.Get("iss"), state, idp.Issuer)
			}
			token, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatalf("code exchange with PKCE verifier: %v", err)
			}
			rawIDToken, _ := token.Extra("id_token").(string)
			idToken, err := verifier.Verify(ctx, rawIDToken)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			var claims struct {
				Nonce      string   `json:"nonce"`
				Email      string   `json:"email"`
				Department string   `json:"department"`
				Groups     []string `json:"groups"`
			}
			if err := idToken.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if idToken.Subject != tc.user || claims.Nonce != nonce || claims.Email != tc.email ||
				claims.Department != tc.department || !slices.Equal(claims.Groups, tc.groups) {
				t.Errorf("ID token sub=%q claims=%+v, want sub %q nonce %q email %q department %q groups %v",
					idToken.Subject, claims, tc.user, nonce, tc.email, tc.department, tc.groups)
			}
			if payload := VerifyWithJose(t, idp.Issuer, client.ID, rawIDToken); payload["sub"] != tc.user {
				t.Errorf("jose payload sub = %v, want %s", payload["sub"], tc.user)
			}
		})
	}

	t.Run("code without PKCE verifier is refused", func(t *testing.T) {
		authURL := conf.AuthCodeURL("s", oidc.Nonce("n"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		callback := idp.Login(t, newBrowser(t), authURL, "alice")
		_, err := conf.Exchange(ctx, callback.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("got %v, want invalid_grant for a wrong code_verifier", err)
		}
	})
	t.Run("authorization request without PKCE is refused", func(t *testing.T) {
		_, err := idp.login(context.Background(), newBrowser(t), conf.AuthCodeURL("s", oidc.Nonce("n")), "alice")
		if !errors.Is(err, errNoCode) || !strings.Contains(err.Error(), "PKCE") {
			t.Errorf("got %v, want a callback with an error requiring PKCE", err)
		}
	})
	if n := callbackHits.Load(); n != 0 {
		t.Errorf("the relying party's callback was requested %d times; Login must stop before it", n)
	}
}

func newBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: httpTimeout}
}

func TestMintIDTokenVerifiesWithJose(t *testing.T) {
	idp := StartOIDC(t, []OIDCClient{{ID: "app", Secret: "s", RedirectURIs: []string{"http://127.0.0.1:9/cb"}}})
	claims := map[string]any{"groups": []string{"engineering"}, "department": "eng"}

	tests := []struct {
		name, aud, verifyAud string
		ttl                  time.Duration
		wantErr              string
	}{
		{name: "valid", aud: "app", verifyAud: "app", ttl: 5 * time.Minute},
		{name: "expired", aud: "app", verifyAud: "app", ttl: -10 * time.Minute, wantErr: "ERR_JWT_EXPIRED"},
		{name: "other audience", aud: "someone-else", verifyAud: "app", ttl: 5 * time.Minute, wantErr: "aud"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := idp.MintIDToken(t, "alice", tc.aud, claims, tc.ttl)
			payload, err := VerifyJWT(context.Background(), idp.Issuer, tc.verifyAud, token)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("got %v, want an error mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("jose: %v", err)
			}
			groups, _ := payload["groups"].([]any)
			if payload["sub"] != "alice" || payload["department"] != "eng" || len(groups) != 1 || groups[0] != "engineering" {
				t.Errorf("payload = %v, want sub alice, department eng, groups [engineering]", payload)
			}
			if via := VerifyWithJose(t, idp.Issuer, tc.verifyAud, token); via["iss"] != idp.Issuer {
				t.Errorf("iss = %v, want %s", via["iss"], idp.Issuer)
			}
		})
	}
}
