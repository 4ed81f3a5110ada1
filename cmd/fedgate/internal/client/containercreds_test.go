package client

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/testkit"
)

// getContainer asks the endpoint as the AWS SDKs do: GET, with the token
// as the Authorization header and the endpoint's host.
func getContainer(t *testing.T, url, token, host string) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	return resp.StatusCode, body
}

func TestCredentialServer(t *testing.T) {
	g := newFakeGateway(t)
	c, _, _, _ := testClient(t, g)
	var stderr testkit.LogBuffer
	c.stderr = &stderr
	o := roleOptions(g, "arn:aws:iam::1:role/r")
	s, err := c.startCredentialServer(o, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	env := map[string]string{}
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	uri, token := env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
	if !strings.HasPrefix(uri, "http://127.0.0.1:") || len(token) != 64 {
		t.Fatalf("environment %v", env)
	}
	other, _, _, _ := testClient(t, g)
	if s2, err := other.startCredentialServer(o, 0); err != nil || s2.token == s.token {
		t.Errorf("two runs share a token (%v)", err)
	} else {
		_ = s2.Close()
	}

	status, body := getContainer(t, uri, token, "")
	if status != http.StatusOK || !strings.HasPrefix(body["AccessKeyId"], "ASIA") || body["SecretAccessKey"] != "secret" || body["Token"] != "token" || body["RoleArn"] != "arn:aws:iam::1:role/r" {
		t.Fatalf("default role: %d %v", status, body)
	}
	if exp, err := time.Parse(time.RFC3339, body["Expiration"]); err != nil || time.Until(exp) < 50*time.Minute {
		t.Errorf("Expiration %q", body["Expiration"])
	}
	if status, again := getContainer(t, s.RoleURL("arn:aws:iam::1:role/r"), token, ""); status != http.StatusOK || again["AccessKeyId"] != body["AccessKeyId"] || g.vends.Load() != 1 {
		t.Errorf("the same role by ARN: %d %v after %d vends; want the cached credentials", status, again, g.vends.Load())
	}

	refusals := []struct {
		name, url, token, host string
		status                 int
	}{
		{"no token", uri, "", "", http.StatusUnauthorized},
		{"wrong token", uri, strings.Repeat("0", 64), "", http.StatusUnauthorized},
		{"token with a prefix", uri, "Bearer " + token, "", http.StatusUnauthorized},
		{"another host name (DNS rebinding)", uri, token, "attacker.example:80", http.StatusForbidden},
		{"unknown path", strings.TrimSuffix(uri, "/") + "/latest/meta-data", token, "", http.StatusNotFound},
	}
	for _, tt := range refusals {
		if status, _ := getContainer(t, tt.url, tt.token, tt.host); status != tt.status {
			t.Errorf("%s: HTTP %d, want %d", tt.name, status, tt.status)
		}
	}
	if g.vends.Load() != 1 {
		t.Errorf("refused requests reached the gateway: %d vends", g.vends.Load())
	}
	logged := stderr.String()
	if !strings.Contains(logged, "refused a credentials request with no authorization token") || !strings.Contains(logged, "with a wrong authorization token") {
		t.Errorf("refusals not logged:\n%s", logged)
	}
	if strings.Contains(logged, token) || strings.Contains(logged, "secret") {
		t.Errorf("the log holds the token or a secret:\n%s", logged)
	}

	// Credentials due for refresh are fetched anew from the session.
	s.o.RefreshBefore = 2 * time.Hour
	if status, fresh := getContainer(t, uri, token, ""); status != http.StatusOK || fresh["AccessKeyId"] == body["AccessKeyId"] || g.vends.Load() != 2 {
		t.Errorf("refresh: %d %v after %d vends; want new credentials", status, fresh, g.vends.Load())
	}
	if n := strings.Count(stderr.String(), "serving credentials for arn:aws:iam::1:role/r"); n != 2 {
		t.Errorf("%d notes of new credentials, want 2:\n%s", n, stderr.String())
	}

	// A session the gateway refuses: the SDK reads why.
	g.status = http.StatusUnauthorized
	s.o.RefreshBefore = 2 * time.Hour
	if status, e := getContainer(t, uri, token, ""); status != http.StatusInternalServerError || !strings.Contains(e["message"], "run: fedgate login --gateway "+g.srv.URL) {
		t.Errorf("revoked session: %d %v", status, e)
	}
}

func TestWithoutAWSCredentials(t *testing.T) {
	got := withoutAWSCredentials([]string{"PATH=/bin", "AWS_PROFILE=x", "AWS_ACCESS_KEY_ID=a", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2", "AWS_CONTAINER_AUTHORIZATION_TOKEN=t", "AWS_REGION=eu-west-1"})
	if strings.Join(got, " ") != "PATH=/bin AWS_REGION=eu-west-1" {
		t.Errorf("got %v", got)
	}
}
