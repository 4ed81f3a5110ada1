//go:build unix

package peers

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"fedgate/gateway/testkit"
)

// PebbleVersion is the pebble .ci/run installs.
const PebbleVersion = "v2.10.3"

// Pebble is Let's Encrypt's ACME test server, running locally.
type Pebble struct {
	// Directory is the ACME directory URL (https, served with a
	// certificate of CA).
	Directory string
	// CA issued pebble's own https certificate: ACME clients trust it.
	CA *testkit.CA
	// CAFile is CA's certificate as a PEM file.
	CAFile string
	mgmt   string
	proc   *process
}

// Stop ends pebble before the test does.
func (p *Pebble) Stop() { p.proc.stop() }

// goTool finds a program .ci/run installs with go install.
func goTool(t testing.TB, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(string(trimNL(out)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Required(t, name+" (go install "+pkg+"@"+PebbleVersion+")")
	return ""
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// StartPebble runs pebble. It validates tls-alpn-01 challenges by
// connecting to the name being validated on tlsPort (where the ACME client
// under test must answer), and http-01 ones on an unused port. Every name
// resolves to 127.0.0.1 for it: its resolver is pebble-challtestsrv's mock
// DNS server (ACME clients refuse names without a dot, such as localhost).
func StartPebble(t testing.TB, tlsPort int) *Pebble {
	t.Helper()
	bin := goTool(t, "pebble", "github.com/letsencrypt/pebble/v2/cmd/pebble")
	dnsBin := goTool(t, "pebble-challtestsrv", "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv")
	dnsPort := testkit.FreePort(t)
	dns := exec.Command("sh", "-c", `echo "PORT $0"; exec "$1" -dnsserver "127.0.0.1:$0" -management "127.0.0.1:$2" -defaultIPv4 127.0.0.1 -defaultIPv6 "" -http01 "" -https01 "" -doh "" -tlsalpn01 ""`,
		strconv.Itoa(dnsPort), dnsBin, strconv.Itoa(testkit.FreePort(t)))
	if _, err := startProcess(t, "pebble-challtestsrv", dns); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := testkit.NewCA(t)
	cert, key := ca.Issue(t, "127.0.0.1", "localhost")
	for name, b := range map[string][]byte{"cert.pem": cert, "key.pem": key} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	port, mgmt := testkit.FreePort(t), testkit.FreePort(t)
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":                  "127.0.0.1:" + strconv.Itoa(port),
		"managementListenAddress":        "127.0.0.1:" + strconv.Itoa(mgmt),
		"certificate":                    filepath.Join(dir, "cert.pem"),
		"privateKey":                     filepath.Join(dir, "key.pem"),
		"httpPort":                       testkit.FreePort(t),
		"tlsPort":                        tlsPort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
	}}
	b, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// pebble prints no port line of its own.
	cmd := exec.Command("sh", "-c", `echo "PORT $0"; exec "$1" -config "$2" -dnsserver "$3"`, strconv.Itoa(port), bin, cfgPath, "127.0.0.1:"+strconv.Itoa(dnsPort))
	// Validate at once, and never reject a nonce on purpose: the test is
	// about fedgate, not about the ACME client's retries.
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	p, err := startProcess(t, "pebble", cmd)
	if err != nil {
		t.Fatal(err)
	}
	pb := &Pebble{Directory: fmt.Sprintf("https://127.0.0.1:%d/dir", port), CA: ca, CAFile: ca.WriteFile(t, dir),
		mgmt: fmt.Sprintf("https://127.0.0.1:%d", mgmt), proc: p}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: ca.TLSClientConfig()}}
	if err := testkit.WaitHTTPWith(client, pb.Directory, 30*time.Second, nil); err != nil {
		t.Fatalf("pebble: %v\n%s", err, p.output.String())
	}
	return pb
}

// IssuingRoot is the root of the certificates pebble issues (PEM); a new
// one is made at every start of pebble.
func (p *Pebble) IssuingRoot(t testing.TB) []byte {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: p.CA.TLSClientConfig()}}
	resp, err := client.Get(p.mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("pebble roots: HTTP %d %v", resp.StatusCode, err)
	}
	return b
}
