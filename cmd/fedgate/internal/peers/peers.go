// Package peers starts and drives the independent implementations that fedgate's
// end-to-end tests run against: moto for STS/IAM/S3 (with a recording tap in front of
// its STS), node-oidc-provider, samlify and SimpleSAMLphp as upstream IdPs, jose and
// xmlsec1 as second verifiers, PostgreSQL, and the real clients (boto3, the JS SDK,
// both AWS CLIs, headless Chromium). The scripts live in testdata/peers at the module
// root.
package peers

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// peersSubdir is where the peer scripts live, relative to the module root.
const peersSubdir = "testdata/peers"

// errNoModuleRoot means no go.mod was found above the working directory.
var errNoModuleRoot = errors.New("no go.mod found above the working directory")

// Required stops a test whose peer is missing: in CI (CI=true) a missing peer is a
// failure, on a developer machine it is a skip with the reason.
func Required(t testing.TB, what string) {
	t.Helper()
	required(t, what, os.Getenv("CI") == "true")
}

func required(t testing.TB, what string, inCI bool) {
	t.Helper()
	if inCI {
		t.Fatalf("test peer missing: %s (CI=true makes this a failure)", what)
		return
	}
	t.Skipf("test peer missing: %s (skipped outside CI)", what)
}

// Dir returns testdata/peers of the module that contains the working directory.
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("peers: working directory: %w", err)
	}
	root, err := moduleRoot(wd)
	if err != nil {
		return "", err
	}
	return filepath.Join(root, peersSubdir), nil
}

// moduleRoot walks up from dir to the first directory holding a go.mod.
func moduleRoot(dir string) (string, error) {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errNoModuleRoot
		}
		dir = parent
	}
}

// peerDir returns the peers directory or stops the test when it cannot be found.
func peerDir(t testing.TB) string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	return dir
}

// nodePeerDir also checks that node and the npm dependencies are installed.
func nodePeerDir(t testing.TB) string {
	t.Helper()
	dir := peerDir(t)
	if err := checkNodeModules(dir); err != nil {
		Required(t, err.Error())
	}
	return dir
}

func checkNodeModules(dir string) error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("node (Node.js 20+) is not on PATH")
	}
	for _, pkg := range []string{"oidc-provider", "jose"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			return fmt.Errorf("npm package %s is not installed: run npm ci in %s (or %s/setup.sh)", pkg, peersSubdir, peersSubdir)
		}
	}
	return nil
}
