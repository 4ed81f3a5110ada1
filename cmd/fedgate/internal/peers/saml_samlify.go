package peers

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// StartSamlify runs testdata/peers/samlify-idp.mjs (npm samlify) with the
// given users; it reads fedgate's SP metadata from spMetadataURL at each
// sign-in, so it may start before fedgate does.
func StartSamlify(t testing.TB, users []SAMLUser, spMetadataURL string) *SAMLIdP {
	t.Helper()
	dir := nodePeerDir(t)
	for _, pkg := range []string{"samlify", "@authenio/samlify-node-xmllint"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			Required(t, "npm package "+pkg+" (npm ci in "+peersSubdir+")")
		}
	}
	tmp := t.TempDir()
	keyPath, certPath, certPEM := writeKeyPair(t, tmp, "samlify test IdP")
	doc := map[string]any{}
	for _, u := range users {
		attrs := map[string]any{}
		for k, v := range u.Attributes {
			attrs[k] = v
		}
		doc[u.Username] = map[string]any{"password": u.Password, "nameid": u.NameID, "attributes": attrs}
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	usersPath := filepath.Join(tmp, "users.json")
	if err := os.WriteFile(usersPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(dir, "samlify-idp.mjs"),
		"--key", keyPath, "--cert", certPath, "--users", usersPath, "--sp-metadata-url", spMetadataURL)
	cmd.Dir = dir
	proc, err := startProcess(t, "samlify", cmd)
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", proc.port)
	return &SAMLIdP{Name: "samlify", BaseURL: base, MetadataURL: base + "/metadata", CertPEM: certPEM,
		loginForm: regexp.MustCompile(`name="SAMLRequest"`)}
}
