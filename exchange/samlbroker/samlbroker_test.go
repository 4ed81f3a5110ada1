package samlbroker

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"fedgate/exchange/issuer"
	"fedgate/exchange/issuer/issuertest"
	"fedgate/exchange/secret"
	"fedgate/gateway/store"
	"fedgate/gateway/testkit"
)

const (
	entityID = "https://fedgate.example.com/saml/idp"
	roleARN  = "arn:aws:iam::123456789012:role/reader"
	provARN  = "arn:aws:iam::123456789012:saml-provider/fedgate"
)

type fixture struct {
	keys  *issuertest.KeyStore
	clock *testkit.Clock
	ring  *KeyRing
	idp   *IdP
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{keys: &issuertest.KeyStore{}, clock: testkit.NewClock(time.Now().Truncate(time.Second))}
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.ring, err = NewKeyRing(context.Background(), KeyOptions{Keys: f.keys, Sealer: box, Now: f.clock.Now, Rand: rand.Reader, ReloadEvery: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	f.idp, err = New(Options{EntityID: entityID, Keys: f.ring, Now: f.clock.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// signedSample is sample() as the broker signs it now.
func (f *fixture) signedSample(t *testing.T) []byte {
	t.Helper()
	doc, err := f.idp.SignResponse(context.Background(), sample())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func sample() Assertion {
	return Assertion{
		Subject: "us-east-1:1111", RoleARN: roleARN, ProviderARN: provARN, SessionName: "alice@example.com",
		SessionDuration: time.Hour, Tags: map[string]string{"department": "eng", "team": "blue"},
		TransitiveTagKeys: []string{"team"}, SourceIdentity: "alice",
	}
}

// verify checks the assertion's signature against certs with goxmldsig and
// returns the verified assertion element.
func verify(t *testing.T, doc []byte, certs []*x509.Certificate, now time.Time) (*etree.Element, error) {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	as := d.Root().SelectElement("Assertion")
	if as == nil {
		t.Fatal("no Assertion in the response")
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: certs})
	vc.Clock = dsig.NewFakeClockAt(now)
	return vc.Validate(as)
}

func attrValues(as *etree.Element, name string) []string {
	var out []string
	for _, a := range as.FindElements("./AttributeStatement/Attribute") {
		if a.SelectAttrValue("Name", "") == name {
			for _, v := range a.SelectElements("AttributeValue") {
				out = append(out, v.Text())
			}
		}
	}
	return out
}

func TestSignResponseIsWhatAWSExpects(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	doc := f.signedSample(t)
	certs, err := f.ring.Certificates(ctx)
	if err != nil || len(certs) != 1 {
		t.Fatalf("certificates = %d, %v", len(certs), err)
	}
	as, err := verify(t, doc, certs, f.clock.Now())
	if err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	now := f.clock.Now().UTC()
	checks := []struct{ what, got, want string }{
		{"issuer", as.FindElement("./Issuer").Text(), entityID},
		{"audience", as.FindElement("./Conditions/AudienceRestriction/Audience").Text(), AWSAudience},
		{"recipient", as.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData").SelectAttrValue("Recipient", ""), AWSSignInURL},
		{"not on or after", as.FindElement("./Conditions").SelectAttrValue("NotOnOrAfter", ""), samlTime(now.Add(DefaultAssertionTTL))},
		{"name id", as.FindElement("./Subject/NameID").Text(), "us-east-1:1111"},
		{"role", strings.Join(attrValues(as, AttrRole), "|"), roleARN + "," + provARN},
		{"session name", strings.Join(attrValues(as, AttrSessionName), "|"), "alice@example.com"},
		{"duration", strings.Join(attrValues(as, AttrDuration), "|"), "3600"},
		{"tag department", strings.Join(attrValues(as, AttrTagPrefix+"department"), "|"), "eng"},
		{"tag team", strings.Join(attrValues(as, AttrTagPrefix+"team"), "|"), "blue"},
		{"transitive", strings.Join(attrValues(as, AttrTransitive), "|"), "team"},
		{"source identity", strings.Join(attrValues(as, AttrSourceIdentiy), "|"), "alice"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	d := etree.NewDocument()
	_ = d.ReadFromBytes(doc)
	if got := d.Root().SelectAttrValue("Destination", ""); got != AWSSignInURL {
		t.Errorf("Destination = %q", got)
	}
	if sig := d.Root().FindElement("./Assertion/Signature/SignedInfo/SignatureMethod"); sig == nil ||
		sig.SelectAttrValue("Algorithm", "") != dsig.RSASHA256SignatureMethod {
		t.Error("assertion is not signed with RSA-SHA256")
	}
	if idx := d.Root().FindElement("./Assertion/Signature").Index(); idx != 1 {
		t.Errorf("Signature is child %d of the Assertion, want 1 (right after Issuer)", idx)
	}
	b64, err := f.idp.SignAWSResponse(ctx, sample())
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.StdEncoding.DecodeString(b64); err != nil || !bytes.Contains(raw, []byte("samlp:Response")) {
		t.Fatalf("SignAWSResponse is not base64 of a response: %v", err)
	}
}

// TestTamperedResponseFailsVerification flips bytes inside the signed
// assertion: every change must break the signature.
func TestTamperedResponseFailsVerification(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	doc := f.signedSample(t)
	certs, _ := f.ring.Certificates(ctx)
	for _, target := range []string{roleARN, "alice@example.com", "us-east-1:1111", AWSAudience + "<", ">eng<"} {
		i := bytes.Index(doc, []byte(target))
		if i < 0 {
			t.Fatalf("%q not in the response", target)
		}
		mutated := bytes.Clone(doc)
		mutated[i+1] ^= 0x01
		if _, err := verify(t, mutated, certs, f.clock.Now()); err == nil {
			t.Errorf("signature still verifies after changing %q", target)
		}
	}
}

func TestSignResponseRefusesIncompleteAssertion(t *testing.T) {
	f := newFixture(t)
	for name, mutate := range map[string]func(*Assertion){
		"no subject":      func(a *Assertion) { a.Subject = "" },
		"no role":         func(a *Assertion) { a.RoleARN = "" },
		"no provider ARN": func(a *Assertion) { a.ProviderARN = "" },
		"no session name": func(a *Assertion) { a.SessionName = "" },
	} {
		a := sample()
		mutate(&a)
		if _, err := f.idp.SignResponse(context.Background(), a); !errors.Is(err, ErrInvalidAssertion) {
			t.Errorf("%s: err = %v, want ErrInvalidAssertion", name, err)
		}
	}
}

// TestRotationOverlap: a rotation announces the next certificate first, the
// old key keeps signing until the switch, and both stay published.
func TestRotationOverlap(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before, _ := f.ring.Certificates(ctx)
	newID, startsAt, err := f.ring.Rotate(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !startsAt.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("new key starts at %v", startsAt)
	}
	certs, _ := f.ring.Certificates(ctx)
	if len(certs) != 2 {
		t.Fatalf("during the overlap %d certificates are published, want 2", len(certs))
	}
	md, err := f.idp.Metadata(ctx)
	if err != nil || bytes.Count(md, []byte("<ds:X509Certificate>")) != 2 {
		t.Fatalf("metadata during overlap lacks a certificate (%v):\n%s", err, md)
	}
	doc := f.signedSample(t)
	if _, err := verify(t, doc, before, f.clock.Now()); err != nil {
		t.Fatalf("before the switch the old key must sign: %v", err)
	}
	f.clock.Advance(time.Hour + time.Second)
	signer, err := f.ring.signer(ctx)
	if err != nil || signer.id != newID {
		t.Fatalf("after the switch signer = %v, %v; want %s", signer, err, newID)
	}
	doc = f.signedSample(t)
	if _, err := verify(t, doc, before, f.clock.Now()); err == nil {
		t.Fatal("after the switch the old key still signs")
	}
	if certs, _ := f.ring.Certificates(ctx); len(certs) != 2 {
		t.Fatalf("right after the switch %d certificates are published, want 2", len(certs))
	}
	f.clock.Advance(DefaultRetention)
	if certs, _ := f.ring.Certificates(ctx); len(certs) != 1 || certs[0].Equal(before[0]) {
		t.Fatal("the retired certificate is still published after the retention")
	}
}

func TestTamperedStoredKeyRefused(t *testing.T) {
	f := newFixture(t)
	f.keys.Mutate(func(keys []store.StoredKey) { keys[0].Sealed[len(keys[0].Sealed)-1] ^= 1 })
	box, _ := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize), rand.Reader)
	_, err := NewKeyRing(context.Background(), KeyOptions{Keys: f.keys, Sealer: box, Now: f.clock.Now, Rand: rand.Reader})
	var ke *issuer.KeyError
	if !errors.As(err, &ke) {
		t.Fatalf("err = %v, want a KeyError", err)
	}
	if strings.Contains(err.Error(), "PRIVATE") {
		t.Fatal("error leaks key material")
	}
}

func TestNewRefusesLongTTL(t *testing.T) {
	f := newFixture(t)
	if _, err := New(Options{EntityID: entityID, Keys: f.ring, Now: f.clock.Now, Rand: rand.Reader, AssertionTTL: time.Hour}); err == nil {
		t.Fatal("an hour-long assertion TTL was accepted")
	}
}

func BenchmarkSignResponse(b *testing.B) {
	t := &testing.T{}
	f := newFixture(t)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.idp.SignResponse(ctx, sample()); err != nil {
			b.Fatal(err)
		}
	}
}
