package peers

import (
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// XMLSecVerifier is xmlsec1 checking the assertion signature of a SAML
// response against certDER, the one certificate its signer publishes.
func XMLSecVerifier(t testing.TB, certDER []byte) func(doc []byte) (ok bool, output string) {
	t.Helper()
	xmlsec, err := exec.LookPath("xmlsec1")
	if err != nil {
		Required(t, "xmlsec1 (apt-get install xmlsec1)")
	}
	dir := t.TempDir()
	certPath := filepath.Join(dir, "signer.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(doc []byte) (bool, string) {
		p := filepath.Join(dir, "response.xml")
		if err := os.WriteFile(p, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(xmlsec, "--verify", "--pubkey-cert-pem", certPath,
			"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", p).CombinedOutput()
		return err == nil, string(out)
	}
}
