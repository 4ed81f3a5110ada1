package peers

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// RunBoto3Backend runs testdata/peers/cognito/boto3_backend.py, a backend
// of developer-authenticated identities that signs with an access key,
// with plan (see the script), and returns what it printed.
func RunBoto3Backend(t testing.TB, plan map[string]any) SDKResult {
	t.Helper()
	dir := peerDir(t)
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		Required(t, "python3 with boto3 (pip install boto3)")
	}
	return runSDKProgram(t, exec.Command("python3", filepath.Join(dir, "cognito", "boto3_backend.py")), plan)
}
