package peers

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"html"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// SAMLUser is one person at a test SAML IdP.
type SAMLUser struct {
	Username, Password string
	NameID             string              // persistent NameID the IdP asserts
	Attributes         map[string][]string // attribute Name (URI) -> values
}

// SAMLIdP is a running upstream SAML IdP.
type SAMLIdP struct {
	Name        string
	MetadataURL string // what fedgate's idp_metadata_url names
	BaseURL     string
	// CertPEM is the IdP's signing certificate.
	CertPEM []byte
	// loginForm finds the IdP's username/password form on a page.
	loginForm *regexp.Regexp
}

// PostedResponse is the HTTP-POST binding form an IdP hands the browser.
type PostedResponse struct {
	ACS          string
	SAMLResponse string
	RelayState   string
}

// writeKeyPair writes a fresh RSA key and self-signed certificate (PEM) to
// dir and returns their paths: each test run signs with a new IdP key.
func writeKeyPair(t testing.TB, dir, cn string) (keyPath, certPath string, certPEM []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyPath, certPath = filepath.Join(dir, "idp.key"), filepath.Join(dir, "idp.crt")
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return keyPath, certPath, certPEM
}

var (
	formTag     = regexp.MustCompile(`(?is)<form\b[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenInput = regexp.MustCompile(`(?is)<input\b[^>]*\btype="hidden"[^>]*>`)
	attrName    = regexp.MustCompile(`(?is)\bname="([^"]*)"`)
	attrValue   = regexp.MustCompile(`(?is)\bvalue="([^"]*)"`)
)

// hiddenFields reads the hidden inputs of the first form whose body
// matches pick, and resolves its action against base.
func hiddenFields(page string, base *url.URL, pick func(body string) bool) (*url.URL, url.Values, bool) {
	for _, m := range formTag.FindAllStringSubmatch(page, -1) {
		if !pick(m[2]) {
			continue
		}
		action, err := base.Parse(html.UnescapeString(m[1]))
		if err != nil {
			return nil, nil, false
		}
		vals := url.Values{}
		for _, in := range hiddenInput.FindAllString(m[2], -1) {
			n, v := attrName.FindStringSubmatch(in), attrValue.FindStringSubmatch(in)
			if n == nil {
				continue
			}
			val := ""
			if v != nil {
				val = html.UnescapeString(v[1])
			}
			vals.Set(html.UnescapeString(n[1]), val)
		}
		return action, vals, true
	}
	return nil, nil, false
}

// Login signs username in at the IdP as a browser would: it follows
// fedgate's redirect from startURL (/login/POOL/PROVIDER) to the IdP,
// submits the login form, and returns the HTTP-POST form the IdP answers
// with, without posting it to fedgate (the test does that).
func (i *SAMLIdP) Login(t testing.TB, c *http.Client, startURL, username, password string) PostedResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, startURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 8 {
		page, pageURL, err := fetch(c, req)
		if err != nil {
			t.Fatalf("%s login: %v", i.Name, err)
		}
		if action, vals, ok := hiddenFields(page, pageURL, func(b string) bool { return strings.Contains(b, `name="SAMLResponse"`) }); ok {
			return PostedResponse{ACS: action.String(), SAMLResponse: vals.Get("SAMLResponse"), RelayState: vals.Get("RelayState")}
		}
		action, vals, ok := hiddenFields(page, pageURL, func(b string) bool { return i.loginForm.MatchString(b) })
		if !ok {
			t.Fatalf("%s login: page %s has neither a login form nor a SAMLResponse:\n%.2000s", i.Name, pageURL, page)
		}
		vals.Set("username", username)
		vals.Set("password", password)
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(vals.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	t.Fatalf("%s login: no SAMLResponse after 8 pages", i.Name)
	return PostedResponse{}
}
