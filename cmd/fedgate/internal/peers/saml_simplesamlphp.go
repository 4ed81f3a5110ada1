package peers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/testkit"
)

// simpleSAMLphpWWW is where Debian's simplesamlphp package puts its web root.
const simpleSAMLphpWWW = "/usr/share/simplesamlphp/www"

// SAMLSP is the service provider (fedgate) an IdP is configured for.
type SAMLSP struct{ EntityID, ACSURL string }

// StartSimpleSAMLphp serves Debian's SimpleSAMLphp 1.19 with `php -S` from
// a folder whose `simplesaml` links to its web root, with a configuration
// of the test's own (SIMPLESAMLPHP_CONFIG_DIR): an exampleauth:UserPass
// source with users, a hosted SAML 2.0 IdP signing with a fresh key, and
// sp as its one remote SP.
func StartSimpleSAMLphp(t testing.TB, users []SAMLUser, sp SAMLSP) *SAMLIdP {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		Required(t, "php (apt-get install php-cli php-xml php-mbstring)")
	}
	if _, err := os.Stat(filepath.Join(simpleSAMLphpWWW, "saml2", "idp", "SSOService.php")); err != nil {
		Required(t, "simplesamlphp (apt-get install simplesamlphp)")
	}
	tmp := t.TempDir()
	docroot, confDir := filepath.Join(tmp, "www"), filepath.Join(tmp, "config")
	for _, d := range []string{docroot, filepath.Join(confDir, "metadata"), filepath.Join(tmp, "data"), filepath.Join(tmp, "tmp"), filepath.Join(tmp, "log")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(simpleSAMLphpWWW, filepath.Join(docroot, "simplesaml")); err != nil {
		t.Fatal(err)
	}
	keyPath, certPath, certPEM := writeKeyPair(t, tmp, "SimpleSAMLphp test IdP")
	port := testkit.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	files := map[string]string{
		"config.php":                     sspConfig(base, tmp),
		"authsources.php":                sspAuthSources(users),
		"metadata/saml20-idp-hosted.php": sspIdPHosted(keyPath, certPath),
		"metadata/saml20-sp-remote.php":  sspSPRemote(sp),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(confDir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// php -S prints nothing machine-readable: announce the port, then serve.
	cmd := exec.Command("sh", "-c", `echo "PORT $1"; exec "$2" -d variables_order=EGPCS -S "127.0.0.1:$1" -t "$3"`,
		"sh", strconv.Itoa(port), php, docroot)
	cmd.Env = append(os.Environ(), "SIMPLESAMLPHP_CONFIG_DIR="+confDir)
	if _, err := startProcess(t, "simplesamlphp", cmd); err != nil {
		t.Fatalf("peers: %v", err)
	}
	md := base + "/simplesaml/saml2/idp/metadata.php"
	if err := testkit.WaitHTTP(md, 30*time.Second, nil); err != nil {
		t.Fatalf("peers: simplesamlphp: %v", err)
	}
	return &SAMLIdP{Name: "simplesamlphp", BaseURL: base, MetadataURL: md, CertPEM: certPEM,
		loginForm: regexp.MustCompile(`name="AuthState"`)}
}

// phpString quotes s as a single-quoted PHP string.
func phpString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func sspConfig(base, dir string) string {
	return `<?php
$config = [
    'baseurlpath' => ` + phpString(base+"/simplesaml/") + `,
    'certdir' => ` + phpString(dir+"/") + `,
    'loggingdir' => ` + phpString(dir+"/log/") + `,
    'datadir' => ` + phpString(dir+"/data/") + `,
    'tempdir' => ` + phpString(dir+"/tmp") + `,
    'metadatadir' => ` + phpString(dir+"/config/metadata/") + `,
    'secretsalt' => 'fedgate-test-salt-not-secret',
    'auth.adminpassword' => 'fedgate-test-admin',
    'technicalcontact_name' => 'fedgate tests',
    'technicalcontact_email' => 'tests@example.com',
    'timezone' => 'UTC',
    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    'logging.level' => SimpleSAML\Logger::WARNING,
    'logging.handler' => 'stderr',
    'store.type' => 'phpsession',
    'session.phpsession.savepath' => ` + phpString(dir+"/tmp") + `,
    'session.cookie.secure' => false,
    'showerrors' => true,
    'errorreporting' => false,
    'language.default' => 'en',
    'trusted.url.domains' => [],
    'metadata.sources' => [['type' => 'flatfile']],
];
`
}

func sspAuthSources(users []SAMLUser) string {
	var b strings.Builder
	b.WriteString("<?php\n$config = [\n    'admin' => ['core:AdminPassword'],\n    'example-userpass' => [\n        'exampleauth:UserPass',\n")
	for _, u := range users {
		fmt.Fprintf(&b, "        %s => [\n            'uid' => [%s],\n", phpString(u.Username+":"+u.Password), phpString(u.NameID))
		for name, vals := range u.Attributes {
			quoted := make([]string, len(vals))
			for i, v := range vals {
				quoted[i] = phpString(v)
			}
			fmt.Fprintf(&b, "            %s => [%s],\n", phpString(name), strings.Join(quoted, ", "))
		}
		b.WriteString("        ],\n")
	}
	b.WriteString("    ],\n];\n")
	return b.String()
}

func sspIdPHosted(keyPath, certPath string) string {
	return `<?php
$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__',
    'privatekey' => ` + phpString(keyPath) + `,
    'certificate' => ` + phpString(certPath) + `,
    'auth' => 'example-userpass',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'authproc' => [
        10 => ['class' => 'saml:AttributeNameID', 'attribute' => 'uid',
               'Format' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
    ],
];
`
}

func sspSPRemote(sp SAMLSP) string {
	return `<?php
$metadata[` + phpString(sp.EntityID) + `] = [
    'AssertionConsumerService' => [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => ` + phpString(sp.ACSURL) + `]],
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'saml20.sign.assertion' => true,
    'saml20.sign.response' => false,
];
`
}
