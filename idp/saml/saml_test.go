package saml

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewsaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"

	"fedgate/gateway/testkit"
	"fedgate/idp"
)

func TestSAMLConsumeResponse(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*samlCase)
	}{
		{"assertion signed", func(*samlCase) {}},
		{"response signed", func(c *samlCase) { c.SignAssertion, c.SignResponse = false, true }},
		{"both signed", func(c *samlCase) { c.SignResponse = true }},
		{"no response issuer", func(c *samlCase) { c.ResponseIssuer = "" }},
		{"two audiences in one restriction", func(c *samlCase) {
			c.Audiences = [][]string{{"https://other.example.com", testSPEntityID}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			c := newSAMLCase()
			tt.mutate(c)
			posted := c.post(t)
			id, err := f.consume(t, posted)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			want := map[string]any{
				"sub":             testAlice,
				"email":           testAlice,
				"groups":          []any{"engineering", "admins"},
				ClaimIssuer:       testIdPEntityID,
				ClaimSessionIndex: "_session-91",
				ClaimNameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
			}
			if id.Provider != "corp" || id.Subject != testAlice || id.RawToken != posted {
				t.Fatalf("identity = %q %q raw-equal=%v", id.Provider, id.Subject, id.RawToken == posted)
			}
			if !reflect.DeepEqual(id.Claims, want) {
				t.Fatalf("claims = %#v\nwant %#v", id.Claims, want)
			}
			if f.replay.len() != 1 {
				t.Fatalf("replay cache holds %d ids, want 1", f.replay.len())
			}
		})
	}
}

func TestSAMLAttributesToClaims(t *testing.T) {
	f := newSAMLFixture(t, nil)
	c := newSAMLCase()
	c.Attributes = []testAttr{
		{Name: "urn:oid:0.9.2342.19200300.100.1.3", Values: []string{"alice@example.org"}},
		{Name: "groups", Values: []string{"a", "b", "c"}},
		{Name: "groups", Values: []string{"d"}}, // repeated attribute: merged
		{Name: "empty", Values: nil},
		{Name: "sub", Values: []string{"root"}},               // reserved: dropped
		{Name: ClaimIssuer, Values: []string{"https://evil"}}, // reserved: dropped
		{Name: idp.AWSRoleAttribute, Values: []string{
			"arn:aws:iam::123456789012:role/reader,arn:aws:iam::123456789012:saml-provider/corp",
			"arn:aws:iam::123456789012:saml-provider/corp,arn:aws:iam::123456789012:role/admin",
		}},
	}
	id, err := f.consume(t, c.post(t))
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]any{
		"urn:oid:0.9.2342.19200300.100.1.3": "alice@example.org",
		"groups":                            []any{"a", "b", "c", "d"},
		"empty":                             []any{},
		"sub":                               testAlice,
		ClaimIssuer:                         testIdPEntityID,
	}
	for k, want := range checks {
		if got := id.Claims[k]; !reflect.DeepEqual(got, want) {
			t.Errorf("claim %q = %#v, want %#v", k, got, want)
		}
	}
	roles := f.sp.AWSRoles(id)
	wantRoles := []idp.RolePair{
		{RoleARN: "arn:aws:iam::123456789012:role/reader", ProviderARN: "arn:aws:iam::123456789012:saml-provider/corp"},
		{RoleARN: "arn:aws:iam::123456789012:role/admin", ProviderARN: "arn:aws:iam::123456789012:saml-provider/corp"},
	}
	if !reflect.DeepEqual(roles, wantRoles) {
		t.Fatalf("AWSRoles = %+v", roles)
	}
}

func TestSAMLNameIDFormats(t *testing.T) {
	for _, format := range []string{
		"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
		"urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
		"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
		"",
	} {
		t.Run(format, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			c := newSAMLCase()
			c.NameIDFormat, c.NameID = format, "_8f2b0c55e1"
			id, err := f.consume(t, c.post(t))
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "_8f2b0c55e1" || id.Claims["sub"] != "_8f2b0c55e1" {
				t.Fatalf("subject = %q", id.Subject)
			}
			got, has := id.Claims[ClaimNameIDFormat]
			if (format == "" && has) || (format != "" && got != format) {
				t.Fatalf("name id format claim = %v", got)
			}
		})
	}
}

func TestSAMLEmptyNameIDRefused(t *testing.T) {
	f := newSAMLFixture(t, nil)
	c := newSAMLCase()
	c.NameID = ""
	f.mustRefuse(t, c.post(t), nil)
}

func TestSAMLBadStatusIsExchangeFailure(t *testing.T) {
	f := newSAMLFixture(t, nil)
	c := newSAMLCase()
	c.Status = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	c.SignAssertion, c.SignResponse = false, true
	f.mustRefuse(t, c.post(t), idp.ErrExchangeFailed)
}

// TestSAMLClockSkewPerProvider shows the skew is the provider's, not the
// library's fixed 3 minutes, in both directions and both ways round.
func TestSAMLClockSkewPerProvider(t *testing.T) {
	tests := []struct {
		name    string
		skew    time.Duration
		advance time.Duration // IdP clock behind (+) or ahead (-) of ours
		ok      bool
		want    error
	}{
		{"idp 50s behind, skew 1m", time.Minute, 50 * time.Second, true, nil},
		{"idp 4m behind, skew 1m", time.Minute, 4 * time.Minute, false, idp.ErrExpiredToken},
		{"idp 4m behind, skew 5m", 5 * time.Minute, 4 * time.Minute, true, nil},
		{"idp 2m ahead, skew 1m", time.Minute, -2 * time.Minute, false, idp.ErrInvalidToken},
		{"idp 2m ahead, skew 3m", 3 * time.Minute, -2 * time.Minute, true, nil},
		{"idp 4m30s ahead, skew 5m", 5 * time.Minute, -(4*time.Minute + 30*time.Second), true, nil},
		{"idp 6m ahead, skew 5m", 5 * time.Minute, -6 * time.Minute, false, idp.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSAMLFixture(t, func(c *Config) { c.ClockSkew = tt.skew })
			c := newSAMLCase()
			// An IdP whose clock is off issues everything shifted; a short
			// validity window makes the skew decide.
			c.IssueInstant = testSAMLNow.Add(-tt.advance)
			c.NotBefore = c.IssueInstant
			c.NotOnOrAfter = c.IssueInstant.Add(2 * time.Minute)
			c.SCDNotOnOrAfter = c.NotOnOrAfter
			id, err := f.consume(t, c.post(t))
			if tt.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || id != nil || !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSAMLIdPInitiatedAllowed(t *testing.T) {
	f := newSAMLFixture(t, func(c *Config) { c.AllowIdPInitiated = true })
	c := newSAMLCase()
	c.InResponseTo = ""
	id, err := f.sp.ConsumeResponse(context.Background(), c.post(t), nil)
	if err != nil || id.Subject != testAlice {
		t.Fatalf("unsolicited response refused with IdP-initiated on: %v", err)
	}
	// IdP-initiated on does not make an answer to someone else's request
	// acceptable.
	c = newSAMLCase()
	c.AssertionID, c.InResponseTo = "_other", "id-someone-elses-request"
	if id, err := f.sp.ConsumeResponse(context.Background(), c.post(t), nil); err == nil || id != nil {
		t.Fatal("response to another request accepted as IdP-initiated")
	}
}

func TestSAMLEncryptedAssertion(t *testing.T) {
	tests := []struct {
		name string
		enc  func() xmlenc.RSA
		ok   bool
	}{
		{"oaep aes256-gcm", func() xmlenc.RSA { e := xmlenc.OAEP(); e.BlockCipher = xmlenc.AES256GCM; return e }, true},
		{"oaep aes128-cbc", func() xmlenc.RSA { e := xmlenc.OAEP(); e.BlockCipher = xmlenc.AES128CBC; return e }, true},
		// Bleichenbacher padding oracle on PKCS#1 v1.5 key transport
		// (Jager, Schinzel, Somorovsky, ESORICS 2012).
		{"rsa-1_5 refused", func() xmlenc.RSA { e := xmlenc.PKCS1v15(); e.BlockCipher = xmlenc.AES256GCM; return e }, false},
		{"3des refused", func() xmlenc.RSA { e := xmlenc.OAEP(); e.BlockCipher = xmlenc.TripleDES; return e }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			c := newSAMLCase()
			c.SignResponse = true // an encrypted assertion is authenticated by the signed response
			c.SignAssertion = true
			doc := c.doc(t)
			root := doc.Root()
			a := assertionEl(root)
			// Re-sign the response after encrypting: encrypt first.
			plain, err := docOf(a).WriteToBytes()
			if err != nil {
				t.Fatal(err)
			}
			encData, err := tt.enc().Encrypt(testKeys()["sp"].cert, plain, nil)
			if err != nil {
				t.Fatal(err)
			}
			encAssertion := root.CreateElement("saml:EncryptedAssertion")
			encAssertion.CreateAttr("xmlns:saml", samlAssertionNS)
			encAssertion.AddChild(encData)
			root.RemoveChild(encAssertion)
			replaceElement(a, encAssertion)
			// drop the old response signature and sign again
			if sig := root.FindElement("./Signature"); sig != nil {
				root.RemoveChild(sig)
			}
			doc.SetRoot(c.sign(t, testKeys()["idp"], root))
			id, err := f.consume(t, encodeDoc(t, doc))
			if tt.ok {
				if err != nil || id.Subject != testAlice {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || id != nil || !strings.Contains(err.Error(), "encryption algorithm") {
				t.Fatalf("weak encryption: identity %v, err %v", id, err)
			}
		})
	}
}

func TestSAMLSHA1RefusedByDefault(t *testing.T) {
	c := newSAMLCase()
	c.SHA1 = true
	posted := c.post(t)
	f := newSAMLFixture(t, nil)
	f.mustRefuse(t, posted, idp.ErrInvalidToken)
	allow := newSAMLFixture(t, func(c *Config) { c.AllowSHA1Signatures = true })
	if _, err := allow.consume(t, posted); err != nil {
		t.Fatalf("SHA-1 refused with AllowSHA1Signatures: %v", err)
	}
}

func TestSAMLResponseSizeCap(t *testing.T) {
	f := newSAMLFixture(t, func(c *Config) { c.MaxResponseBytes = 8 << 10 })
	c := newSAMLCase()
	if _, err := f.consume(t, c.post(t)); err != nil {
		t.Fatalf("a normal response exceeds 8 KiB? %v", err)
	}
	c = newSAMLCase()
	c.AssertionID = "_big"
	c.Attributes = append(c.Attributes, testAttr{Name: "blob", Values: []string{strings.Repeat("x", 9<<10)}})
	f.mustRefuse(t, c.post(t), idp.ErrTooLarge)
	// Line-wrapped base64 (76 columns, as PHP's chunk_split makes) is fine.
	c = newSAMLCase()
	c.AssertionID = "_wrapped"
	posted := c.post(t)
	var wrapped strings.Builder
	for i := 0; i < len(posted); i += 76 {
		wrapped.WriteString(posted[i:min(i+76, len(posted))] + "\r\n")
	}
	if _, err := f.consume(t, wrapped.String()); err != nil {
		t.Fatalf("wrapped base64 refused: %v", err)
	}
}

func TestSAMLMalformedInput(t *testing.T) {
	f := newSAMLFixture(t, nil)
	for name, posted := range map[string]string{
		"empty":        "",
		"not base64":   "%%%",
		"not xml":      base64.StdEncoding.EncodeToString([]byte("hello")),
		"not response": base64.StdEncoding.EncodeToString([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`)),
		"no assertion": base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" Version="2.0"/>`)),
		"truncated":    newSAMLCase().post(t)[:400],
	} {
		t.Run(name, func(t *testing.T) { f.mustRefuse(t, posted, idp.ErrInvalidToken) })
	}
}

func TestSAMLAuthnRequestURL(t *testing.T) {
	f := newSAMLFixture(t, nil)
	flow := idp.Flow{State: "st-" + rand.Text()}
	raw, reqID, err := f.sp.AuthnRequestURL(flow)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != testSSOURL {
		t.Fatalf("destination = %s", got)
	}
	q := u.Query()
	if q.Get("RelayState") != flow.State || q.Get("SigAlg") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
		t.Fatalf("query = %v", q)
	}
	// The redirect binding signs "SAMLRequest=..&RelayState=..&SigAlg=.."
	// as sent (saml-bindings §3.4.4.1).
	var signed []string
	for _, part := range strings.Split(u.RawQuery, "&") {
		if !strings.HasPrefix(part, "Signature=") {
			signed = append(signed, part)
		}
	}
	sig, err := base64.StdEncoding.DecodeString(q.Get("Signature"))
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(strings.Join(signed, "&")))
	if err := rsa.VerifyPKCS1v15(&testKeys()["sp"].key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("redirect signature does not verify with the SP certificate: %v", err)
	}
	req := redirectAuthnRequest(t, q.Get("SAMLRequest"))
	if req.ID != reqID || req.AssertionConsumerServiceURL != testACS || req.Destination != testSSOURL ||
		req.Issuer == nil || req.Issuer.Value != testSPEntityID || req.ProtocolBinding != crewsaml.HTTPPostBinding {
		t.Fatalf("authn request = %+v", req)
	}
	if !req.IssueInstant.Equal(testSAMLNow) {
		t.Fatalf("IssueInstant = %s, want the injected clock", req.IssueInstant)
	}
	// Each request gets its own id.
	if _, reqID2, _ := f.sp.AuthnRequestURL(flow); reqID2 == reqID {
		t.Fatal("request ids repeat")
	}
	if _, _, err := f.sp.AuthnRequestURL(idp.Flow{}); err == nil {
		t.Fatal("a flow without state was accepted")
	}
}

func TestSAMLSPMetadata(t *testing.T) {
	f := newSAMLFixture(t, nil)
	out, err := f.sp.SPMetadata()
	if err != nil {
		t.Fatal(err)
	}
	var md crewsaml.EntityDescriptor
	if err := xml.Unmarshal(out, &md); err != nil {
		t.Fatal(err)
	}
	if md.EntityID != testSPEntityID || len(md.SPSSODescriptors) != 1 {
		t.Fatalf("metadata = %s", out)
	}
	d := md.SPSSODescriptors[0]
	if len(d.AssertionConsumerServices) != 1 || d.AssertionConsumerServices[0].Location != testACS ||
		d.AssertionConsumerServices[0].Binding != crewsaml.HTTPPostBinding {
		t.Fatalf("ACS = %+v", d.AssertionConsumerServices)
	}
	if d.AuthnRequestsSigned == nil || !*d.AuthnRequestsSigned || d.WantAssertionsSigned == nil || !*d.WantAssertionsSigned {
		t.Fatal("metadata does not say requests are signed and assertions must be")
	}
	if !bytes.Contains(out, []byte(base64.StdEncoding.EncodeToString(testKeys()["sp"].cert.Raw))) {
		t.Fatal("metadata lacks the SP certificate")
	}
	if bytes.Contains(out, []byte("PRIVATE")) {
		t.Fatal("metadata leaks key material")
	}
}

func TestNewSAMLConfig(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; nil means valid
	}{
		{"valid", func(*Config) {}, nil},
		{"every problem at once", func(c *Config) {
			c.ID, c.EntityID, c.ACSURL, c.IdPMetadataXML = "", "", "/acs", nil
		}, []string{"id is required", "entity id is required", "acs url", "idp metadata url or inline"}},
		{"both metadata sources", func(c *Config) { c.IdPMetadataURL = "https://idp.example.org/md" }, []string{"not both"}},
		{"metadata over plain http", func(c *Config) {
			c.IdPMetadataXML, c.IdPMetadataURL = nil, "http://idp.example.org/md"
		}, []string{"must be https"}},
		{"skew above 5m", func(c *Config) { c.ClockSkew = 6 * time.Minute }, []string{"clock skew"}},
		{"negative skew", func(c *Config) { c.ClockSkew = -time.Second }, []string{"clock skew"}},
		{"refresh too often", func(c *Config) { c.RefreshInterval = time.Second }, []string{"refresh interval"}},
		{"key without certificate", func(c *Config) { c.Certificate = nil }, []string{"go together"}},
		{"certificate of another key", func(c *Config) { c.Certificate = testKeys()["idp"].cert }, []string{"does not match"}},
		{"ecdsa key with rsa cert", func(c *Config) { c.SigningKey = ecKey }, []string{"does not match"}},
		{"no signing key is fine", func(c *Config) { c.SigningKey, c.Certificate = nil, nil }, nil},
		{"metadata without signing cert", func(c *Config) { c.IdPMetadataXML = idpMetadataXML(testIdPEntityID) }, []string{"no signing certificate"}},
		{"metadata not xml", func(c *Config) { c.IdPMetadataXML = []byte("{}") }, []string{"not XML"}},
		{"metadata without entity id", func(c *Config) { c.IdPMetadataXML = idpMetadataXML("", testKeys()["idp"].cert) }, []string{"no entityID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), testSPConfig(tt.mutate), http.DefaultClient, nil, newMemReplay())
			if tt.want == nil {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				return
			}
			if !errors.Is(err, idp.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := New(context.Background(), Config{}, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "replay cache") {
		t.Fatalf("missing replay cache not reported: %v", err)
	}
}

func TestSAMLMetadataFromEntitiesDescriptor(t *testing.T) {
	one := bytes.TrimPrefix(idpMetadataXML(testIdPEntityID, testKeys()["idp"].cert), []byte(`<?xml version="1.0"?>`))
	wrap := func(entities ...[]byte) []byte {
		return append(append([]byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">`), bytes.Join(entities, nil)...), []byte(`</md:EntitiesDescriptor>`)...)
	}
	if md, err := parseIdPMetadata(wrap(one)); err != nil || md.EntityID != testIdPEntityID {
		t.Fatalf("single-entity aggregate: %v", err)
	}
	if _, err := parseIdPMetadata(wrap(one, one)); err == nil {
		t.Fatal("ambiguous aggregate accepted")
	}
}

// metadataServer is a real HTTP server whose metadata answer the test
// switches between success, failure and a rotated key.
type metadataServer struct {
	srv   *httptest.Server
	body  atomic.Pointer[[]byte]
	fail  atomic.Bool
	calls atomic.Int32
}

func newMetadataServer(t *testing.T, body []byte) *metadataServer {
	m := &metadataServer{}
	m.body.Store(&body)
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		m.calls.Add(1)
		if m.fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(*m.body.Load())
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *metadataServer) set(body []byte) { m.body.Store(&body) }

func TestSAMLMetadataRefreshKeepsLastGoodCopy(t *testing.T) {
	m := newMetadataServer(t, idpMetadataXML(testIdPEntityID, testKeys()["idp"].cert))
	f := &samlFixture{clock: testkit.NewClock(testSAMLNow), replay: newMemReplay()}
	sp, err := New(context.Background(), Config{
		ID: "corp", IdPMetadataURL: m.srv.URL + "/metadata", RefreshInterval: 10 * time.Minute,
		EntityID: testSPEntityID, ACSURL: testACS, MetadataURL: testSPMetadataURL,
	}, m.srv.Client(), f.clock.Now, f.replay)
	if err != nil {
		t.Fatal(err)
	}
	f.sp = sp
	if err := sp.Ready(context.Background()); err != nil || m.calls.Load() != 1 {
		t.Fatalf("initial fetch: %v (calls %d)", err, m.calls.Load())
	}

	ok := func(assertionID string, signer *testKeyPair) error {
		c := newSAMLCase()
		c.IssueInstant = f.clock.Now().Add(-time.Second)
		c.NotBefore, c.NotOnOrAfter, c.SCDNotOnOrAfter = c.IssueInstant, c.IssueInstant.Add(5*time.Minute), c.IssueInstant.Add(5*time.Minute)
		c.AssertionID, c.Signer = assertionID, signer
		_, err := f.consume(t, c.post(t))
		return err
	}
	if err := ok("_a1", testKeys()["idp"]); err != nil {
		t.Fatal(err)
	}
	// Not due yet: no fetch.
	f.clock.Advance(5 * time.Minute)
	if err := ok("_a2", testKeys()["idp"]); err != nil || m.calls.Load() != 1 {
		t.Fatalf("err %v, calls %d", err, m.calls.Load())
	}
	// Due, but the server is down: the last good copy keeps working and
	// the failure is visible.
	m.fail.Store(true)
	f.clock.Advance(6 * time.Minute)
	if err := ok("_a3", testKeys()["idp"]); err != nil {
		t.Fatalf("sign-in failed while metadata refresh fails: %v", err)
	}
	if m.calls.Load() != 2 || !errors.Is(sp.LastRefreshError(), idp.ErrUpstream) || sp.Ready(context.Background()) != nil {
		t.Fatalf("calls %d, last refresh error %v", m.calls.Load(), sp.LastRefreshError())
	}
	// Within the retry interval no further fetch is made.
	if err := ok("_a4", testKeys()["idp"]); err != nil || m.calls.Load() != 2 {
		t.Fatalf("err %v, calls %d", err, m.calls.Load())
	}
	// A garbage answer is a failed refresh too.
	m.fail.Store(false)
	m.set([]byte("<html>maintenance</html>"))
	f.clock.Advance(time.Minute)
	if err := ok("_a5", testKeys()["idp"]); err != nil || m.calls.Load() != 3 || sp.LastRefreshError() == nil {
		t.Fatalf("err %v, calls %d, last %v", err, m.calls.Load(), sp.LastRefreshError())
	}
	// The IdP rotates to a new key: once refreshed, the new key is trusted
	// and the old one is not.
	m.set(idpMetadataXML(testIdPEntityID, testKeys()["idp2"].cert))
	f.clock.Advance(time.Minute)
	if err := ok("_a6", testKeys()["idp2"]); err != nil {
		t.Fatalf("rotated key refused: %v", err)
	}
	if sp.LastRefreshError() != nil {
		t.Fatalf("refresh error after success: %v", sp.LastRefreshError())
	}
	if err := ok("_a7", testKeys()["idp"]); err == nil {
		t.Fatal("old key still trusted after rotation")
	}
}

func TestSAMLMetadataUnavailableAtStart(t *testing.T) {
	m := newMetadataServer(t, idpMetadataXML(testIdPEntityID, testKeys()["idp"].cert))
	m.fail.Store(true)
	clock := testkit.NewClock(testSAMLNow)
	sp, err := New(context.Background(), Config{
		ID: "corp", IdPMetadataURL: m.srv.URL, EntityID: testSPEntityID, ACSURL: testACS, MetadataURL: testSPMetadataURL,
	}, m.srv.Client(), clock.Now, newMemReplay())
	if err != nil {
		t.Fatalf("an unreachable IdP must not stop the gateway: %v", err)
	}
	if err := sp.Ready(context.Background()); !errors.Is(err, idp.ErrUpstream) {
		t.Fatalf("Ready = %v, want ErrUpstream", err)
	}
	if _, _, err := sp.AuthnRequestURL(idp.Flow{State: "s"}); !errors.Is(err, idp.ErrUpstream) {
		t.Fatalf("AuthnRequestURL = %v", err)
	}
	if id, err := sp.ConsumeResponse(context.Background(), newSAMLCase().post(t), []string{testRequestID}); id != nil || !errors.Is(err, idp.ErrUpstream) {
		t.Fatalf("ConsumeResponse without metadata = %v", err)
	}
	m.fail.Store(false)
	clock.Advance(samlMetadataRetryInterval)
	if err := sp.Ready(context.Background()); err != nil {
		t.Fatalf("Ready after recovery = %v", err)
	}
	if sp.IdPEntityID() != testIdPEntityID {
		t.Fatalf("IdPEntityID = %q", sp.IdPEntityID())
	}
}

func TestSAMLMetadataSizeCap(t *testing.T) {
	huge := append(idpMetadataXML(testIdPEntityID, testKeys()["idp"].cert), bytes.Repeat([]byte("<!-- padding -->"), (maxSAMLMetadataBytes/16)+1)...)
	m := newMetadataServer(t, huge)
	sp, err := New(context.Background(), Config{
		ID: "corp", IdPMetadataURL: m.srv.URL, EntityID: testSPEntityID, ACSURL: testACS, MetadataURL: testSPMetadataURL,
	}, m.srv.Client(), nil, newMemReplay())
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Ready(context.Background()); !errors.Is(err, idp.ErrUpstream) || !strings.Contains(err.Error(), "size limit") {
		t.Fatalf("oversized metadata: %v", err)
	}
}

func TestSAMLConcurrentConsume(t *testing.T) {
	f := newSAMLFixture(t, nil)
	posted := newSAMLCase().post(t)
	var wg sync.WaitGroup
	var accepted atomic.Int32
	for range 8 {
		wg.Go(func() {
			if _, err := f.consume(t, posted); err == nil {
				accepted.Add(1)
			} else if !errors.Is(err, idp.ErrReplay) {
				t.Errorf("unexpected refusal: %v", err)
			}
		})
	}
	wg.Wait()
	if accepted.Load() != 1 {
		t.Fatalf("one response accepted %d times", accepted.Load())
	}
}

// docOf returns el as the root of a new document (a copy).
func docOf(el *etree.Element) *etree.Document {
	d := etree.NewDocument()
	d.SetRoot(el.Copy())
	return d
}
