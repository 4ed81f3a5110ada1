package peers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	// LoginPassword is what Login types into the IdP's password field; any works.
	LoginPassword = "any-password"
	// maxLoginSteps bounds the login/consent pages Login walks through.
	maxLoginSteps = 6
	// maxPageBytes caps what is read from one IdP page.
	maxPageBytes = 1 << 20
	// httpTimeout bounds one request to a local peer.
	httpTimeout = 30 * time.Second
)

// pageForm finds the login and consent forms that oidc-idp.mjs renders.
var pageForm = regexp.MustCompile(`<form id="(login-form|consent-form)" method="post" action="([^"]+)"`)

var errNoCode = errors.New("callback carries no code")

// OIDCClient is a client registered at the IdP (authorization code flow, PKCE S256
// required; a client without a secret is public, token_endpoint_auth_method none).
type OIDCClient struct {
	ID, Secret   string
	RedirectURIs []string
}

// OIDC is a running node-oidc-provider upstream IdP.
type OIDC struct {
	Issuer string // http://127.0.0.1:PORT, or the issuer it was started with
	Direct string // 127.0.0.1:PORT, where it listens (behind a proxy, not the issuer's)
	http   *http.Client
}

// StartOIDC runs testdata/peers/oidc-idp.mjs with the given clients and the users of
// testdata/peers/users.json (alice, bob, carol), with POST /test/id-token enabled.
func StartOIDC(t testing.TB, clients []OIDCClient) *OIDC {
	t.Helper()
	return StartOIDCWithIssuer(t, clients, "")
}

// StartOIDCWithIssuer is StartOIDC with the issuer a proxy in front of the
// IdP gives it ("" = its own address).
func StartOIDCWithIssuer(t testing.TB, clients []OIDCClient, issuer string) *OIDC {
	t.Helper()
	dir := nodePeerDir(t)
	type clientMetadata struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret,omitempty"`
		RedirectURIs []string `json:"redirect_uris"`
	}
	registered := make([]clientMetadata, 0, len(clients))
	for _, c := range clients {
		registered = append(registered, clientMetadata{ClientID: c.ID, ClientSecret: c.Secret, RedirectURIs: c.RedirectURIs})
	}
	clientsJSON, err := json.Marshal(registered)
	if err != nil {
		t.Fatalf("peers: encode clients: %v", err)
	}
	args := []string{filepath.Join(dir, "oidc-idp.mjs"), "--port", "0"}
	if issuer != "" {
		args = append(args, "--issuer", issuer)
	}
	cmd := exec.Command("node", args...)
	cmd.Env = append(os.Environ(), "OIDC_CLIENTS="+string(clientsJSON), "OIDC_TEST_MINT=1")
	proc, err := startProcess(t, "oidc-idp", cmd)
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	direct := fmt.Sprintf("127.0.0.1:%d", proc.port)
	if issuer == "" {
		issuer = "http://" + direct
	}
	return &OIDC{Issuer: issuer, Direct: direct, http: &http.Client{Timeout: httpTimeout}}
}

// MintIDToken returns an ID token signed with the IdP's own key (so it verifies
// against its JWKS) for sub and aud, expiring ttl from now (negative: already
// expired). claims are added last and may override iss, iat, exp and the rest.
func (o *OIDC) MintIDToken(t testing.TB, sub, aud string, claims map[string]any, ttl time.Duration) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"sub": sub, "aud": aud, "claims": claims, "ttl_seconds": int64(ttl / time.Second),
	})
	if err != nil {
		t.Fatalf("peers: encode mint request: %v", err)
	}
	resp, err := o.http.Post("http://"+o.Direct+"/test/id-token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("peers: mint id token: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("peers: mint id token: HTTP %d %v: %s", resp.StatusCode, err, raw)
	}
	var out struct {
		IDToken string `json:"id_token"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.IDToken == "" {
		t.Fatalf("peers: mint id token: bad response (%v)", err)
	}
	return out.IDToken
}

// Login signs username in at the IdP: it opens authURL (the IdP's authorization URL,
// or a URL of the relying party that redirects there) with client, which should carry
// a cookie jar, fills in the login and consent pages over plain HTTP, and follows
// redirects up to, not into, the relying party's redirect_uri. It returns that
// callback URL, which carries code and state (and iss).
func (o *OIDC) Login(t testing.TB, client *http.Client, authURL, username string) *url.URL {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), httpTimeout)
	defer cancel()
	callback, err := o.login(ctx, client, authURL, username)
	if err != nil {
		t.Fatalf("peers: login %s: %v", username, err)
	}
	return callback
}

func (o *OIDC) login(ctx context.Context, client *http.Client, authURL, username string) (*url.URL, error) {
	issuer, err := url.Parse(o.Issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	start, err := url.Parse(authURL)
	if err != nil {
		return nil, fmt.Errorf("auth URL: %w", err)
	}
	browser := *client
	visitedIdP := start.Host == issuer.Host
	var callback *url.URL
	// Follow the relying party into the IdP and within it; stop at the first hop back out.
	browser.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		if req.URL.Host == issuer.Host {
			visitedIdP = true
			return nil
		}
		if visitedIdP {
			callback = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}

	form := url.Values{"login": {username}, "password": {LoginPassword}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, start.String(), nil)
	if err != nil {
		return nil, err
	}
	for range maxLoginSteps {
		page, pageURL, err := fetch(&browser, req)
		if err != nil {
			return nil, err
		}
		if callback != nil {
			return checkCallback(callback)
		}
		match := pageForm.FindStringSubmatch(page)
		if match == nil {
			return nil, fmt.Errorf("page %s has neither the login nor the consent form", pageURL.Path)
		}
		action, err := pageURL.Parse(html.UnescapeString(match[2]))
		if err != nil {
			return nil, fmt.Errorf("form action: %w", err)
		}
		body := ""
		if match[1] == "login-form" {
			body = form.Encode()
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return nil, fmt.Errorf("no redirect back to the relying party after %d pages", maxLoginSteps)
}

// fetch sends req and returns the page body and the URL it came from.
func fetch(client *http.Client, req *http.Request) (string, *url.URL, error) {
	resp, err := client.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	if err != nil {
		return "", nil, err
	}
	if resp.StatusCode >= http.StatusBadRequest {
		return "", nil, fmt.Errorf("%s %s: HTTP %d: %.500s", req.Method, resp.Request.URL.Path, resp.StatusCode, raw)
	}
	return string(raw), resp.Request.URL, nil
}

// checkCallback accepts a callback URL only when it carries an authorization code.
func checkCallback(callback *url.URL) (*url.URL, error) {
	q := callback.Query()
	if q.Get("code") == "" {
		return nil, fmt.Errorf("%w: error=%q error_description=%q", errNoCode, q.Get("error"), q.Get("error_description"))
	}
	return callback, nil
}
