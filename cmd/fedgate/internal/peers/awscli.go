package peers

import (
	"os/exec"
	"strings"
	"testing"
)

// AWSCLIs finds both AWS CLIs: "v1" (pip's, first on PATH) and "v2"
// (Debian's, /usr/bin/aws), by their paths.
func AWSCLIs(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	if p, err := exec.LookPath("aws"); err == nil {
		if v, _ := exec.Command(p, "--version").CombinedOutput(); strings.HasPrefix(string(v), "aws-cli/1.") {
			out["v1"] = p
		}
	}
	if v, _ := exec.Command("/usr/bin/aws", "--version").CombinedOutput(); strings.HasPrefix(string(v), "aws-cli/2.") {
		out["v2"] = "/usr/bin/aws"
	}
	for _, v := range []string{"v1", "v2"} {
		if out[v] == "" {
			Required(t, "AWS CLI "+v+" (v1: pip awscli first on PATH; v2: Debian awscli at /usr/bin/aws)")
		}
	}
	return out
}
