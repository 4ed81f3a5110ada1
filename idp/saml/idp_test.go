package saml

// A test SAML IdP: it signs responses with goxmldsig exactly as a real IdP
// does (exclusive c14n, enveloped signature placed after the Issuer), so
// the attack tests start from responses the provider really accepts and
// change one thing.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"fedgate/gateway/testkit"
	"fedgate/idp"
)

const (
	testACS           = "https://fedgate.example.com/saml/acs/corp"
	testSPEntityID    = "https://fedgate.example.com/saml/sp/corp"
	testSPMetadataURL = "https://fedgate.example.com/saml/metadata/corp"
	testIdPEntityID   = "https://idp.example.org/saml/metadata"
	testSSOURL        = "https://idp.example.org/saml/sso"
	testRequestID     = "id-4f1c2a9e0b7d"
	testAlice         = "alice@example.org"
	testAdmin         = "admin@example.org"
)

var testSAMLNow = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// testKeys are fixed RSA keys and self-signed certificates from
// testdata (generating keys would dominate the tests, and fuzz workers
// run them instrumented); tests never modify them.
var testKeys = sync.OnceValue(func() map[string]*testKeyPair {
	keys := map[string]*testKeyPair{}
	for _, name := range []string{"idp", "idp2", "attacker", "sp"} {
		keys[name] = loadTestKeyPair(name)
	}
	return keys
})

type testKeyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func loadTestKeyPair(name string) *testKeyPair {
	pair, err := tls.LoadX509KeyPair(filepath.Join("testdata", name+".cert.pem"), filepath.Join("testdata", name+".key.pem"))
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		panic(err)
	}
	return &testKeyPair{key: pair.PrivateKey.(*rsa.PrivateKey), cert: cert}
}

// idpMetadataXML is IdP metadata naming the given signing certificates.
func idpMetadataXML(entityID string, certs ...*x509.Certificate) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="` + entityID + `">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">`)
	for _, c := range certs {
		b.WriteString(`
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` +
			base64.StdEncoding.EncodeToString(c.Raw) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`)
	}
	b.WriteString(`
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="` + testSSOURL + `"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + testSSOURL + `"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`)
	return []byte(b.String())
}

type testAttr struct {
	Name   string
	Values []string
}

// samlCase describes one response; newSAMLCase fills in a valid one.
type samlCase struct {
	ResponseID, AssertionID string
	IssueInstant            time.Time
	Destination             string // "" omits it
	InResponseTo            string // Response and SubjectConfirmationData
	ResponseIssuer          string // "" omits it
	AssertionIssuer         string
	Status                  string
	NameID, NameIDFormat    string
	Recipient               string
	NotBefore, NotOnOrAfter time.Time
	SCDNotOnOrAfter         time.Time
	Audiences               [][]string // one AudienceRestriction per entry; nil: none
	Attributes              []testAttr
	SessionIndex            string

	SignAssertion, SignResponse bool
	Signer                      *testKeyPair // default the "idp" key
	KeyInfoCert                 *x509.Certificate
	SHA1                        bool
}

func newSAMLCase() *samlCase {
	now := testSAMLNow
	return &samlCase{
		ResponseID: "_resp-7d1f", AssertionID: "_assert-3b9c",
		IssueInstant: now.Add(-5 * time.Second),
		Destination:  testACS, InResponseTo: testRequestID,
		ResponseIssuer: testIdPEntityID, AssertionIssuer: testIdPEntityID,
		Status: "urn:oasis:names:tc:SAML:2.0:status:Success",
		NameID: testAlice, NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		Recipient: testACS,
		NotBefore: now.Add(-30 * time.Second), NotOnOrAfter: now.Add(5 * time.Minute),
		SCDNotOnOrAfter: now.Add(5 * time.Minute),
		Audiences:       [][]string{{testSPEntityID}},
		Attributes: []testAttr{
			{Name: "email", Values: []string{testAlice}},
			{Name: "groups", Values: []string{"engineering", "admins"}},
		},
		SessionIndex:  "_session-91",
		SignAssertion: true,
	}
}

var responseTemplate = template.Must(template.New("r").Funcs(template.FuncMap{
	"t": func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") },
	"x": template.HTMLEscapeString,
}).Parse(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="{{.ResponseID}}" Version="2.0" IssueInstant="{{t .IssueInstant}}"{{if .Destination}} Destination="{{x .Destination}}"{{end}}{{if .InResponseTo}} InResponseTo="{{x .InResponseTo}}"{{end}}>` +
	`{{if .ResponseIssuer}}<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">{{x .ResponseIssuer}}</saml:Issuer>{{end}}` +
	`<samlp:Status><samlp:StatusCode Value="{{x .Status}}"/></samlp:Status>` +
	`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{{.AssertionID}}" Version="2.0" IssueInstant="{{t .IssueInstant}}">` +
	`<saml:Issuer>{{x .AssertionIssuer}}</saml:Issuer>` +
	`<saml:Subject><saml:NameID{{if .NameIDFormat}} Format="{{x .NameIDFormat}}"{{end}}>{{x .NameID}}</saml:NameID>` +
	`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{{t .SCDNotOnOrAfter}}"{{if .Recipient}} Recipient="{{x .Recipient}}"{{end}}{{if .InResponseTo}} InResponseTo="{{x .InResponseTo}}"{{end}}/></saml:SubjectConfirmation></saml:Subject>` +
	`<saml:Conditions NotBefore="{{t .NotBefore}}" NotOnOrAfter="{{t .NotOnOrAfter}}">` +
	`{{range .Audiences}}<saml:AudienceRestriction>{{range .}}<saml:Audience>{{x .}}</saml:Audience>{{end}}</saml:AudienceRestriction>{{end}}</saml:Conditions>` +
	`<saml:AuthnStatement AuthnInstant="{{t .IssueInstant}}"{{if .SessionIndex}} SessionIndex="{{x .SessionIndex}}"{{end}}><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
	`{{if .Attributes}}<saml:AttributeStatement>{{range .Attributes}}<saml:Attribute Name="{{x .Name}}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">{{range .Values}}<saml:AttributeValue xsi:type="xs:string">{{x .}}</saml:AttributeValue>{{end}}</saml:Attribute>{{end}}</saml:AttributeStatement>{{end}}` +
	`</saml:Assertion></samlp:Response>`))

// doc renders and signs the case, returning the document for tampering.
func (c *samlCase) doc(t testing.TB) *etree.Document {
	t.Helper()
	var b bytes.Buffer
	if err := responseTemplate.Execute(&b, c); err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	signer := c.Signer
	if signer == nil {
		signer = testKeys()["idp"]
	}
	if c.SignAssertion {
		replaceElement(assertionEl(doc.Root()), c.sign(t, signer, assertionEl(doc.Root())))
	}
	if c.SignResponse {
		doc.SetRoot(c.sign(t, signer, doc.Root()))
	}
	return doc
}

// sign returns a copy of el with an enveloped signature after its Issuer.
func (c *samlCase) sign(t testing.TB, kp *testKeyPair, el *etree.Element) *etree.Element {
	t.Helper()
	cert := kp.cert
	if c.KeyInfoCert != nil {
		cert = c.KeyInfoCert
	}
	ctx, err := dsig.NewSigningContext(kp.key, [][]byte{cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	method := dsig.RSASHA256SignatureMethod
	if c.SHA1 {
		method, ctx.Hash = dsig.RSASHA1SignatureMethod, crypto.SHA1
	}
	if err := ctx.SetSignatureMethod(method); err != nil {
		t.Fatal(err)
	}
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		t.Fatal(err)
	}
	// goxmldsig appends the Signature without setting its parent, so
	// remove it by position.
	var sig *etree.Element
	for i := len(signed.Child) - 1; i >= 0; i-- {
		if el, ok := signed.Child[i].(*etree.Element); ok && el.Tag == "Signature" {
			sig = el
			signed.RemoveChildAt(i)
			break
		}
	}
	at := 0
	if issuer := signed.FindElement("./Issuer"); issuer != nil {
		at = issuer.Index() + 1
	}
	signed.InsertChildAt(at, sig)
	return signed
}

// post renders, signs and base64-encodes the case.
func (c *samlCase) post(t testing.TB) string {
	t.Helper()
	return encodeDoc(t, c.doc(t))
}

func encodeDoc(t testing.TB, doc *etree.Document) string {
	t.Helper()
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

func assertionEl(root *etree.Element) *etree.Element { return root.FindElement("./Assertion") }

func replaceElement(old, replacement *etree.Element) {
	parent := old.Parent()
	parent.InsertChildAt(old.Index(), replacement)
	parent.RemoveChild(old)
}

func setNameID(assertion *etree.Element, value string) {
	assertion.FindElement("./Subject/NameID").SetText(value)
}

// memReplay is an in-memory ReplayCache for unit tests; the gateway's is
// backed by the store.
type memReplay struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func newMemReplay() *memReplay { return &memReplay{seen: map[string]time.Time{}} }

func (m *memReplay) Remember(_ context.Context, id string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.seen[id]; ok {
		return idp.ErrReplay
	}
	m.seen[id] = until
	return nil
}

func (m *memReplay) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}

// forgetfulReplay accepts everything (fuzzing re-submits one response).
type forgetfulReplay struct{}

func (forgetfulReplay) Remember(context.Context, string, time.Time) error { return nil }

type samlFixture struct {
	sp     *Provider
	clock  *testkit.Clock
	replay *memReplay
}

// testSPConfig is the SP trusting the "idp" key via inline metadata,
// adjusted by mutate if not nil.
func testSPConfig(mutate func(*Config)) Config {
	cfg := Config{
		ID: "corp", DisplayName: "Corp SAML",
		IdPMetadataXML: idpMetadataXML(testIdPEntityID, testKeys()["idp"].cert),
		EntityID:       testSPEntityID, ACSURL: testACS, MetadataURL: testSPMetadataURL,
		SigningKey: testKeys()["sp"].key, Certificate: testKeys()["sp"].cert,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	return cfg
}

// newSAMLFixture builds a provider trusting the "idp" key via inline
// metadata, at testSAMLNow.
func newSAMLFixture(t testing.TB, mutate func(*Config)) *samlFixture {
	t.Helper()
	clock := testkit.NewClock(testSAMLNow)
	replay := newMemReplay()
	sp, err := New(context.Background(), testSPConfig(mutate), nil, clock.Now, replay)
	if err != nil {
		t.Fatal(err)
	}
	return &samlFixture{sp: sp, clock: clock, replay: replay}
}

func (f *samlFixture) consume(t testing.TB, posted string) (*idp.Identity, error) {
	t.Helper()
	return f.sp.ConsumeResponse(context.Background(), posted, []string{testRequestID})
}

// mustRefuse asserts that a response is refused with want (an idp
// sentinel), that no identity is returned and nothing is remembered.
func (f *samlFixture) mustRefuse(t testing.TB, posted string, want error) {
	t.Helper()
	before := f.replay.len()
	id, err := f.consume(t, posted)
	if err == nil || id != nil {
		t.Fatalf("accepted: identity %+v", id)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	if f.replay.len() != before {
		t.Fatalf("a refused response was remembered in the replay cache")
	}
}

// verifiedSubject runs only the library verification (no shape checks), to
// show what the signature alone lets through: it must never be the
// attacker's subject.
func (f *samlFixture) verifiedSubject(t testing.TB, doc *etree.Document) (string, error) {
	t.Helper()
	raw, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	meta, err := f.sp.metadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.sp.verify(meta, raw, []string{testRequestID}, f.clock.Now())
	if err != nil {
		return "", err
	}
	if a.Subject == nil || a.Subject.NameID == nil {
		return "", nil
	}
	return a.Subject.NameID.Value, nil
}
