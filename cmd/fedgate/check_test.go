package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fedgate/exchange/secret"
	"fedgate/gateway/core"
)

const checkBase = `
server: {public_url: "http://127.0.0.1:8080"}
providers:
  - {id: demo, type: static, users: [{username: a, password_hash: "$2a$10$abcdefghijklmnopqrstuuJ2rGv1n6Yx0n7b0e9aHq5Fh5w6Y7eW."}]}
`

// fedgate check catches what serve would die on, says how to fix it, and
// starts every line with the file's name.
func TestCheckMasterKeyAndStore(t *testing.T) {
	dir := t.TempDir()
	goodKey, _ := secret.GenerateKey(strings.NewReader(strings.Repeat("k", 32)))
	for _, tc := range []struct {
		name, body string
		args       []string
		code       int
		want       []string
		never      []string
	}{
		{"short key", "keys: {master_key: c2hvcnQ=}\nstore: {path: " + filepath.Join(dir, "a.db") + "}\n", nil, 1,
			[]string{"keys.master_key:", "decodes to 5 bytes, want 32", "fedgate keys new-master-key"}, []string{"c2hvcnQ"}},
		{"not base64", "keys: {master_key: 'not base64!!'}\nstore: {path: " + filepath.Join(dir, "a.db") + "}\n", nil, 1,
			[]string{"keys.master_key:", "not base64", "fedgate keys new-master-key"}, []string{"not base64!!"}},
		{"missing key file", "keys: {master_key_file: " + filepath.Join(dir, "nope.key") + "}\nstore: {path: " + filepath.Join(dir, "a.db") + "}\n", nil, 1,
			[]string{"keys.master_key_file:", "no such file", "fedgate keys new-master-key"}, nil},
		{"demo key file made at start", "keys: {master_key_file: " + filepath.Join(dir, "new.key") + ", generate_master_key: true}\nstore: {path: " + filepath.Join(dir, "a.db") + "}\n", nil, 0,
			[]string{"OK", "store sqlite reached"}, nil},
		{"store folder missing", "keys: {master_key: " + goodKey + "}\nstore: {path: " + filepath.Join(dir, "no", "such", "x.db") + "}\n", nil, 1,
			[]string{"store.path:", "cannot be created"}, []string{goodKey}},
		{"not a database", "keys: {master_key: " + goodKey + "}\nstore: {path: " + writeFile(t, "junk.db", strings.Repeat("junk", 2000)) + "}\n", nil, 1,
			[]string{"store.path:", "not a readable SQLite database"}, nil},
		{"postgres unreachable", "keys: {master_key: " + goodKey + "}\nstore: {driver: postgres, dsn: 'postgres://fedgate:hunter2secret@127.0.0.1:1/fedgate?connect_timeout=2'}\n", nil, 1,
			[]string{"store.dsn: cannot reach the postgres store"}, []string{"hunter2secret", goodKey}},
		{"keys.publish", "keys: {master_key: " + goodKey + ", publish: {bucket: issuer-bucket, prefix: fedgate/, region: eu-west-1, issuer_url: 'https://issuer.example.com/fedgate'}}\nstore: {path: " + filepath.Join(dir, "p.db") + "}\n", nil, 0,
			[]string{"OK", "keys.publish writes the issuer documents to s3://issuer-bucket/fedgate/", "issuer https://issuer.example.com/fedgate", "not contacted"}, nil},
		{"keys.publish with problems", "keys: {master_key: " + goodKey + ", publish: {bucket: Bad_Bucket, prefix: fedgate, issuer_url: 'http://issuer.example.com'}}\nstore: {path: " + filepath.Join(dir, "p.db") + "}\n", nil, 1,
			[]string{"keys.publish.bucket", "keys.publish.prefix", "keys.publish.issuer_url"}, nil},
		{"postgres unreachable, offline", "keys: {master_key: " + goodKey + "}\nstore: {driver: postgres, dsn: 'postgres://fedgate:hunter2secret@127.0.0.1:1/fedgate'}\n", []string{"--offline"}, 0,
			[]string{"OK", "not reached: --offline"}, []string{"hunter2secret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFile(t, "fedgate.yaml", checkBase+tc.body)
			code, out, errOut := runCmd(t, "", append([]string{"check", "--config", cfg}, tc.args...)...)
			all := out + errOut
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(all, n) {
					t.Errorf("output repeats %q:\n%s", n, all)
				}
			}
			if !strings.HasPrefix(all, cfg+": ") {
				t.Errorf("output does not start with the file name:\n%s", all)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "a.db")); err == nil {
		t.Error("check created the SQLite file")
	}
}

// Every error of a command that reads a configuration starts with the file
// name, or with the command when there is no file; never with ": ".
func TestErrorsNameTheFileOrTheCommand(t *testing.T) {
	bad := writeFile(t, "bad.yaml", "server: {listen: nowhere}\n")
	for _, args := range [][]string{
		{"check"}, {"serve"}, {"keys", "list"}, {"mappings", "export"}, {"trust-policy", "--pool", "x"},
		{"check", "--config", bad}, {"serve", "--config", bad}, {"keys", "rotate", "--config", bad}, {"mappings", "export", "--config", bad},
		{"trust-policy", "--config", bad, "--pool", "x"}, {"check", "--config", filepath.Join(t.TempDir(), "missing.yaml")},
	} {
		_, out, errOut := runCmd(t, "", args...)
		msg := strings.TrimSpace(out + errOut)
		if msg == "" || strings.HasPrefix(msg, ":") || !(strings.HasPrefix(msg, "fedgate") || strings.HasPrefix(msg, "/") || strings.HasPrefix(msg, "usage")) {
			t.Errorf("fedgate %v:\n%s", args, msg)
		}
	}
}

func TestKeysNewMasterKey(t *testing.T) {
	seen := map[string]bool{}
	for range 2 {
		code, out, _ := runCmd(t, "", "keys", "new-master-key")
		k := strings.TrimSpace(out)
		if _, err := secret.ParseKey(k); code != 0 || err != nil {
			t.Fatalf("exit %d, key %q: %v", code, k, err)
		}
		seen[k] = true
	}
	if len(seen) != 2 {
		t.Error("two runs printed the same key")
	}
}

// serve --help lists every flag and every environment variable it reads.
func TestServeHelpListsFlagsAndEnvironment(t *testing.T) {
	_, _, help := runCmd(t, "", "serve", "--help")
	for _, want := range []string{"Usage: fedgate serve --config FILE", "-config", "FEDGATE_MASTER_KEY", "FEDGATE_STORE_DSN",
		"FEDGATE_STS_ENDPOINT", "FEDGATE_STS_REGION", "FEDGATE_LOG_LEVEL", "admin.api_token_env", "${NAME}", "AWS_", "SSL_CERT_FILE"} {
		if !strings.Contains(help, want) {
			t.Errorf("serve --help lacks %q:\n%s", want, help)
		}
	}
	_, _, checkHelp := runCmd(t, "", "check", "--help")
	if !strings.Contains(checkHelp, "-offline") || !strings.Contains(checkHelp, "FEDGATE_MASTER_KEY") {
		t.Errorf("check --help:\n%s", checkHelp)
	}
}

// mappings.source is stated, never guessed: with store, check and mappings
// diff say loudly that a changed file is not applied and name the live
// version; with file, mappings apply is refused and serve applies the file.
func TestMappingsSourceCheckAndDiff(t *testing.T) {
	dir := t.TempDir()
	key, _ := secret.GenerateKey(strings.NewReader(strings.Repeat("m", 32)))
	pool := func(display, source string) string {
		return fmt.Sprintf(`server: {public_url: "http://127.0.0.1:8080"}
store: {path: %s}
keys: {master_key: %s}
mappings: {source: %s}
providers:
  - {id: demo, type: static, users: [{username: a, password_hash: "$2a$10$abcdefghijklmnopqrstuuJ2rGv1n6Yx0n7b0e9aHq5Fh5w6Y7eW."}]}
pools:
  - {id: "us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11", name: team, display_name: %q, providers: [demo], authenticated_role: "arn:aws:iam::123456789012:role/r"}
`, filepath.Join(dir, "fedgate.db"), key, source, display)
	}
	cfg := filepath.Join(dir, "fedgate.yaml")
	write := func(body string) {
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(pool("Team", "store"))
	if _, out, errOut := runCmd(t, "", "check", "--config", cfg); !strings.Contains(out, "the store is empty") {
		t.Errorf("empty store: %s%s", out, errOut)
	}
	seedStore(t, cfg) // as serve does at start
	if _, out, _ := runCmd(t, "", "check", "--config", cfg); !strings.Contains(out, "holds the live version 1") {
		t.Errorf("same file: %s", out)
	}
	write(pool("Team, renamed", "store"))
	_, out, _ := runCmd(t, "", "check", "--config", cfg)
	if !strings.Contains(out, "WARNING: mappings.source is store") || !strings.Contains(out, "NOT applied") || !strings.Contains(out, "live version is 1") {
		t.Errorf("changed file, store: %s", out)
	}
	code, out, _ := runCmd(t, "", "mappings", "diff", "--config", cfg)
	if code != 3 || !strings.Contains(out, "~ pools[team].display_name: Team -> Team, renamed") || !strings.Contains(out, "NOT applied") {
		t.Errorf("mappings diff: exit %d\n%s", code, out)
	}
	write(pool("Team, renamed", "file"))
	if _, out, _ := runCmd(t, "", "check", "--config", cfg); !strings.Contains(out, "makes this file's mappings live, replacing version 1") {
		t.Errorf("changed file, file: %s", out)
	}
	mf := writeFile(t, "m.yaml", "providers: []\npools: []\n")
	if code, _, errOut := runCmd(t, "", "mappings", "apply", "--config", cfg, mf); code != 1 || !strings.Contains(errOut, "mappings.source is file") {
		t.Errorf("apply with source file: exit %d %s", code, errOut)
	}
}

func seedStore(t *testing.T, cfg string) {
	t.Helper()
	env := environ{lookup: os.LookupEnv}
	f, err := loadConfig(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	log := newLogger(io.Discard, env)
	st, box, err := openCore(context.Background(), f, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := core.Seed(context.Background(), st, box, f, log); err != nil {
		t.Fatal(err)
	}
}
