package main

// End-to-end: an `oauth2` provider (OAuth 2.0 without OpenID Connect) in
// front of the real oidc-provider, used as a plain authorization server:
// its authorization, token and userinfo endpoints, with an opaque access
// token. The real binary serves and signs in (browser and `fedgate login`);
// moto's STS and IAM with enforcement prove the credentials.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/wire"
)

const (
	poolOAuth2ID   = "us-east-1:6b1e4c2d-9a3f-4e7b-8c5d-2f1a0e9b8c7d"
	oauth2ClientID = "fedgate-oauth2"
)

// oauth2Endpoints are the peer's endpoints as its discovery document
// names them; an oauth2 provider is configured with them, not discovery.
type oauth2Endpoints struct {
	Issuer        string `json:"issuer"`
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	UserInfo      string `json:"userinfo_endpoint"`
}

func discoverOAuth2Endpoints(t *testing.T, issuer string) oauth2Endpoints {
	t.Helper()
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ep oauth2Endpoints
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ep); err != nil || ep.Authorization == "" || ep.Token == "" || ep.UserInfo == "" {
		t.Fatalf("discovery document: HTTP %d %+v (%v)", resp.StatusCode, ep, err)
	}
	return ep
}

// oauth2Body is the providers and pools of an environment with one oauth2
// provider, hub, and one pool whose rule tests a claim from the userinfo
// answer.
func oauth2Body(ep oauth2Endpoints, readerRole string) string {
	return fmt.Sprintf(`
providers:
  - id: hub
    type: oauth2
    display_name: Hub (OAuth 2.0)
    authorization_url: %s
    token_url: %s
    userinfo_url: %s
    client_id: %s
    client_secret: ${CORP_CLIENT_SECRET}
    # The peer's userinfo endpoint wants the openid scope on the token.
    scopes: [openid, profile, email, groups]
    issuer: %s
    claims: {email: email, teams: groups, department: department}
pools:
  - id: %s
    name: hub
    providers: [hub]
    principal_tags: {department: department}
    rules:
      - name: s3 readers
        match: [{claim: teams, op: equals, value: s3-readers}]
        role: %s
`, ep.Authorization, ep.Token, ep.UserInfo, oauth2ClientID, ep.Issuer, poolOAuth2ID, readerRole)
}

// startOAuth2Env starts moto, the peer and fedgate with oauth2Config.
func startOAuth2Env(t *testing.T) (*env, oauth2Endpoints) {
	t.Helper()
	e := newEnv(t, teamAccountTrust)
	e.idp = peers.StartOIDC(t, []peers.OIDCClient{{ID: oauth2ClientID, Secret: e2eClientSecret, RedirectURIs: []string{e.url + "/callback"}}})
	ep := discoverOAuth2Endpoints(t, e.idp.Issuer)
	e.serve(oauth2Body(ep, e.readerRole))
	return e, ep
}

func TestEndToEndOAuth2(t *testing.T) {
	e, ep := startOAuth2Env(t)

	t.Run("browser sign-in vends least-privilege credentials from userinfo claims", func(t *testing.T) {
		c := browser(t)
		cb := e.idp.Login(t, c, e.url+"/login/hub/hub", "alice")
		if cb.Query().Get("iss") != ep.Issuer {
			t.Errorf("the answer's iss is %q, want the configured issuer %q", cb.Query().Get("iss"), ep.Issuer)
		}
		status, h, page := get(t, c, cb.String())
		if status != http.StatusOK || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("callback: HTTP %d, Cache-Control %q\n%s", status, h.Get("Cache-Control"), page)
		}
		page = pickOnlyRole(t, c, e.url, page)
		if !strings.Contains(page, e.readerRole) {
			t.Errorf("credentials page does not name %s", e.readerRole)
		}
		e.assertLeastPrivilege(credsFromPage(t, page))

		// What fedgate sent STS names the oauth2 provider and carries the
		// session tag mapped from the userinfo answer.
		_, minted := e.tap.Snapshot()
		claims := peers.VerifyWithJose(t, e.url, poolOAuth2ID, minted)
		if amr, _ := json.Marshal(claims["amr"]); string(amr) != `["authenticated","hub"]` {
			t.Errorf("minted amr = %s", amr)
		}
		if tags, _ := json.Marshal(claims["https://aws.amazon.com/tags"]); !strings.Contains(string(tags), `"department":["eng"]`) {
			t.Errorf("minted session tags = %s, want department=eng from userinfo", tags)
		}
	})

	t.Run("no rule matches bob's userinfo claims", func(t *testing.T) {
		calls := e.tap.Count()
		c := browser(t)
		status, _, page := get(t, c, e.idp.Login(t, c, e.url+"/login/hub/hub", "bob").String())
		if status != http.StatusForbidden || !strings.Contains(page, "no rule") {
			t.Errorf("bob: HTTP %d, want 403 saying no rule matched\n%s", status, page)
		}
		if e.tap.Count() != calls {
			t.Error("a refused sign-in reached STS")
		}
	})

	t.Run("an answer naming another issuer is refused (RFC 9207)", func(t *testing.T) {
		calls := e.tap.Count()
		c := browser(t)
		cb := e.idp.Login(t, c, e.url+"/login/hub/hub", "alice")
		q := cb.Query()
		q.Set("iss", "http://127.0.0.1:1/other")
		cb.RawQuery = q.Encode()
		status, _, page := get(t, c, cb.String())
		if status != http.StatusBadRequest || !strings.Contains(page, "another identity provider") {
			t.Errorf("answer naming another issuer: HTTP %d, want 400", status)
		}
		if e.tap.Count() != calls {
			t.Error("a refused answer reached STS")
		}
	})

	t.Run("the JSON API takes no token for an oauth2 provider", func(t *testing.T) {
		idToken := e.idp.MintIDToken(t, "alice", oauth2ClientID, map[string]any{"groups": []string{"s3-readers"}}, 5*time.Minute)
		r := e.api(idToken, map[string]any{"pool": "hub", "provider": "hub"})
		if r.status != http.StatusBadRequest || r.body["code"] != "unknown_provider" {
			t.Errorf("bearer token named for the oauth2 provider: %d %v, want 400 unknown_provider", r.status, r.body)
		}
		r = e.api(idToken, map[string]any{"pool": "hub"})
		if r.status != http.StatusUnauthorized || r.body["code"] != "invalid_token" {
			t.Errorf("bearer token for a pool of only an oauth2 provider: %d %v, want 401 invalid_token", r.status, r.body)
		}
	})

	t.Run("fedgate check refuses an oauth2 provider in upstream-token mode", func(t *testing.T) {
		upstream := fmt.Sprintf(`  - id: us-east-1:7c2f5d3e-0b4a-4f8c-9d6e-3a2b1c0d9e8f
    name: hub-upstream
    providers: [hub]
    mode: upstream-token
    rules:
      - name: s3 readers
        match: [{claim: teams, op: equals, value: s3-readers}]
        role: %s
`, e.readerRole)
		// The environment's own file (pools come last) with the pool added.
		base, err := os.ReadFile(e.configPath)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "fedgate.yaml")
		if err := os.WriteFile(path, append(base, upstream...), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(e.bin, "check", "--config", path)
		cmd.Env = e.cmdEnv()
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), `pools[1].providers[0]: upstream-token mode forwards an OIDC ID token; provider "hub" is oauth2`) {
			t.Fatalf("fedgate check: %v\n%s", err, out)
		}
		if strings.Count(string(out), "pools[") != 1 {
			t.Errorf("fedgate check reports more than the mode problem:\n%s", out)
		}
	})

	t.Run("fedgate login through the oauth2 provider, then credential-process", func(t *testing.T) {
		home := newCLIHome(e)
		lines, done := home.start("login", "--pool", "hub", "--provider", "hub", "--no-browser")
		authURL := waitLine(t, lines, `^\s+(http://\S+/cli/authorize\?\S+)$`)
		c := browser(t)
		cb := e.idp.Login(t, c, authURL, "alice")
		// fedgate's callback sends the browser on to the CLI's loopback listener.
		if status, _, page := get(t, c, cb.String()); status != http.StatusOK {
			t.Fatalf("callback of the CLI sign-in: HTTP %d\n%s", status, page)
		}
		r := waitDone(t, done, 30*time.Second)
		if r.code != 0 || !strings.Contains(r.stderr, "Signed in to "+e.url+" as alice@example.com") {
			t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
		}
		calls := e.tap.Count()
		r = home.run("fedgate", "credential-process", "--pool", "hub", "--role", e.readerRole)
		var proc wire.ProcessCredentials
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &proc) != nil || proc.Version != 1 || proc.AccessKeyID == "" || proc.Expiration == "" {
			t.Fatalf("credential-process: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
		}
		if e.tap.Count() != calls+1 {
			t.Errorf("credential-process made %d STS calls, want 1", e.tap.Count()-calls)
		}
		e.assertLeastPrivilege(aws.Credentials{AccessKeyID: proc.AccessKeyID, SecretAccessKey: proc.SecretAccessKey, SessionToken: proc.SessionToken})
	})
}
