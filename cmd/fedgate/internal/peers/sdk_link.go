package peers

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// JSLinkResult is what testdata/peers/cognito/js_link.mjs prints: each
// step's answer, by name.
type JSLinkResult struct {
	Steps map[string]SDKResult `json:"steps"`
}

// RunJSLink runs testdata/peers/cognito/js_link.mjs, a JS SDK v3 app that
// links a second login to its identity, vends with each, and unlinks one.
func RunJSLink(t testing.TB, plan map[string]any) JSLinkResult {
	t.Helper()
	dir := peerDir(t)
	for _, pkg := range []string{"@aws-sdk/credential-providers", "@aws-sdk/client-cognito-identity"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			Required(t, "npm package "+pkg+" (npm ci in "+peersSubdir+")")
		}
	}
	in, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(dir, "cognito", "js_link.mjs"))
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = bytes.NewReader(in), &stdout, &stderr, sdkEnv(t)
	if err := cmd.Run(); err != nil {
		t.Fatalf("js_link.mjs: %v\n%s", err, stderr.String())
	}
	var out JSLinkResult
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("js_link.mjs printed no result: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return out
}
