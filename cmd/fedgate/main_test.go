package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

const brokenConfig = `
server: {public_url: "http://example.com", listen: nowhere}
keys: {algorithm: HS256}
providers:
  - {id: corp, type: oidc, issuer: "ftp://x"}
pools:
  - id: bad
    name: Team!
    providers: [ghost]
    duration_seconds: 10
    rules:
      - {name: r, role: "arn:aws:iam::1:role/x", match: [{claim: g, op: resembles, value: v}]}
`

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// An admin runs `fedgate check` on a broken file and sees every problem at
// once; `fedgate serve` refuses to start on the same file.
func TestCheckListsEveryProblemAndServeRefuses(t *testing.T) {
	cfg := writeFile(t, "broken.yaml", brokenConfig)
	code, _, stderr := runCmd(t, "", "check", "--config", cfg)
	if code != 1 {
		t.Fatalf("check exit = %d, want 1", code)
	}
	for _, want := range []string{"server.listen", "server.public_url", "keys.algorithm", "keys.master_key",
		"providers[0].issuer", "providers[0].client_id", "pools[0].id", "pools[0].name", "pools[0].providers[0]",
		"pools[0].duration_seconds", "pools[0].rules[0].role", "pools[0].rules[0].match[0].op"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check output lacks %s:\n%s", want, stderr)
		}
	}
	code, _, serveErr := runCmd(t, "", "serve", "--config", cfg)
	if code != 1 || !strings.Contains(serveErr, "refusing to start") || !strings.Contains(serveErr, "pools[0].rules[0].role") {
		t.Errorf("serve on a broken config: exit %d\n%s", code, serveErr)
	}
}

func TestCheckDemoConfig(t *testing.T) {
	code, out, stderr := runCmd(t, "", "check", "--config", "../../configs/demo.yaml")
	if code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("demo config: exit %d\n%s%s", code, out, stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"trust-policy", "--config", "x.yaml"}, {"keys"}, {"check", "--bogus"},
		{"login", "--bogus"}, {"credential-process", "--duration", "long"}, {"exec", "--gateway", "https://fedgate.example.com", "--"},
		{"sessions", "--gateway", "https://fedgate.example.com", "forget", "x"}} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("fedgate %v: exit %d, want 2", args, code)
		}
	}
}

func TestHashPassword(t *testing.T) {
	code, out, _ := runCmd(t, "correct horse\n", "hash-password")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(strings.TrimSpace(out)), []byte("correct horse")); err != nil {
		t.Errorf("hash does not verify: %v", err)
	}
	if code, _, _ := runCmd(t, "", "hash-password"); code != 2 {
		t.Errorf("empty password: exit %d, want 2", code)
	}
}
