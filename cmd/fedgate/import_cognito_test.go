package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `fedgate check` accepts what `fedgate import-cognito` writes.
func TestImportCognitoPassesCheck(t *testing.T) {
	t.Setenv("FEDGATE_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	for _, name := range []string{"mobile", "saml"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("internal", "cognitoimport", "testdata")
			out := filepath.Join(t.TempDir(), "fedgate.yaml")
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"import-cognito", "--pool", filepath.Join(dir, name+".describe-identity-pool.json"),
				"--roles", filepath.Join(dir, name+".get-identity-pool-roles.json"), "--out", out}, nil, &stdout, &stderr)
			if code != 0 || !strings.Contains(stderr.String(), "note: providers[") {
				t.Fatalf("import-cognito: exit %d\n%s", code, stderr.String())
			}
			stdout.Reset()
			stderr.Reset()
			if code := run(context.Background(), []string{"check", "--config", out}, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), ": OK") {
				b, _ := os.ReadFile(out)
				t.Fatalf("check: exit %d\n%s%s\n%s", code, stdout.String(), stderr.String(), b)
			}
			// --out never overwrites.
			if code := run(context.Background(), []string{"import-cognito", "--pool", filepath.Join(dir, name+".describe-identity-pool.json"), "--out", out}, nil, &stdout, &stderr); code != 1 {
				t.Errorf("import-cognito over an existing file: exit %d", code)
			}
		})
	}
}
