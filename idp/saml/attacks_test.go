package saml

// One named regression test per known attack on SAML service providers.
// Each starts from a response the provider accepts (TestSAMLConsumeResponse),
// changes it the way the attack does, and requires a refusal with no
// identity and no replay-cache entry. Where the attack targets signature
// verification, the test also runs the library verification alone (without
// fedgate's shape checks) and requires that it never yields the attacker's
// subject: only what the signature covers may be used.

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewsaml "github.com/crewjam/saml"

	"fedgate/idp"
)

func signedDoc(t *testing.T, mutate func(*samlCase)) *etree.Document {
	t.Helper()
	c := newSAMLCase()
	if mutate != nil {
		mutate(c)
	}
	return c.doc(t)
}

func stripSignature(el *etree.Element) *etree.Element {
	if sig := el.FindElement("./Signature"); sig != nil {
		el.RemoveChild(sig)
	}
	return el
}

// evilCopy is the attacker's assertion: a copy of the signed one, without
// its signature, naming the admin.
func evilCopy(a *etree.Element, id string) *etree.Element {
	evil := stripSignature(a.Copy())
	evil.CreateAttr("ID", id)
	setNameID(evil, testAdmin)
	return evil
}

// requireWrappingRefused checks both layers for a wrapped document.
func requireWrappingRefused(t *testing.T, f *samlFixture, doc *etree.Document) {
	t.Helper()
	f.mustRefuse(t, encodeDoc(t, doc), idp.ErrInvalidToken)
	if subject, err := f.verifiedSubject(t, doc); err == nil && subject == testAdmin {
		t.Fatal("library verification alone returned the attacker's unsigned subject")
	}
}

// idVariants runs an XSW permutation with the attacker's element under a
// new ID and under the signed element's own ID (duplicate IDs).
var idVariants = map[string]string{"new id": "_evil-1", "same id": ""}

// XSW1 (Somorovsky et al., "On Breaking SAML: Be Whoever You Want to Be",
// USENIX Security 2012; SAML Raider XSW1): the signed Response is copied,
// unsigned, into its own Signature, and the outer Response is the
// attacker's.
func TestXSW1(t *testing.T) {
	for name, id := range idVariants {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, func(c *samlCase) { c.SignAssertion, c.SignResponse = false, true })
			root := doc.Root()
			orig := stripSignature(root.Copy())
			if id != "" {
				root.CreateAttr("ID", id)
			}
			setNameID(assertionEl(root), testAdmin)
			root.FindElement("./Signature").AddChild(orig)
			requireWrappingRefused(t, f, doc)
		})
	}
}

// XSW2 (SAML Raider XSW2): as XSW1, but the original Response sits before
// the Signature as a detached sibling.
func TestXSW2(t *testing.T) {
	for name, id := range idVariants {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, func(c *samlCase) { c.SignAssertion, c.SignResponse = false, true })
			root := doc.Root()
			orig := stripSignature(root.Copy())
			if id != "" {
				root.CreateAttr("ID", id)
			}
			setNameID(assertionEl(root), testAdmin)
			root.InsertChildAt(root.FindElement("./Signature").Index(), orig)
			requireWrappingRefused(t, f, doc)
		})
	}
}

// XSW3 (SAML Raider XSW3): an unsigned evil assertion is inserted before
// the signed one.
func TestXSW3(t *testing.T) {
	for name, id := range idVariants {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, nil)
			a := assertionEl(doc.Root())
			evil := evilCopy(a, firstNonEmpty(id, a.SelectAttrValue("ID", "")))
			doc.Root().InsertChildAt(a.Index(), evil)
			requireWrappingRefused(t, f, doc)
		})
	}
}

// XSW4 (SAML Raider XSW4): the evil assertion replaces the signed one,
// which becomes its child.
func TestXSW4(t *testing.T) {
	for name, id := range idVariants {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, nil)
			a := assertionEl(doc.Root())
			evil := evilCopy(a, firstNonEmpty(id, a.SelectAttrValue("ID", "")))
			evil.AddChild(a.Copy())
			replaceElement(a, evil)
			requireWrappingRefused(t, f, doc)
		})
	}
}

// XSW5 (SAML Raider XSW5): the signed assertion is changed in place
// (keeping its Signature) and an unsigned copy of the original is appended
// to the Response for the Reference to find.
func TestXSW5(t *testing.T) {
	for name, id := range idVariants {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, nil)
			a := assertionEl(doc.Root())
			orig := stripSignature(a.Copy())
			if id != "" {
				a.CreateAttr("ID", id)
			}
			setNameID(a, testAdmin)
			doc.Root().AddChild(orig)
			requireWrappingRefused(t, f, doc)
		})
	}
}

// XSW6 (SAML Raider XSW6): as XSW5, but the original copy is placed inside
// the evil assertion's Signature.
func TestXSW6(t *testing.T) {
	for name, id := range idVariants {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, nil)
			a := assertionEl(doc.Root())
			orig := stripSignature(a.Copy())
			if id != "" {
				a.CreateAttr("ID", id)
			}
			setNameID(a, testAdmin)
			a.FindElement("./Signature").AddChild(orig)
			requireWrappingRefused(t, f, doc)
		})
	}
}

// XSW7 (SAML Raider XSW7): the signed assertion is hidden in a
// samlp:Extensions block, where schema-lax processing skips it, and an
// unsigned evil assertion takes its place.
func TestXSW7(t *testing.T) {
	for name, id := range idVariants {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, nil)
			root := doc.Root()
			a := assertionEl(root)
			evil := evilCopy(a, firstNonEmpty(id, a.SelectAttrValue("ID", "")))
			ext := root.CreateElement("samlp:Extensions")
			root.RemoveChild(ext)
			ext.AddChild(a.Copy())
			replaceElement(a, evil)
			root.InsertChildAt(root.FindElement("./Issuer").Index()+1, ext)
			requireWrappingRefused(t, f, doc)
		})
	}
}

// XSW8 (SAML Raider XSW8): the evil assertion keeps the Signature, into
// which a ds:Object holding the unsigned original is added.
func TestXSW8(t *testing.T) {
	for name, id := range idVariants {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, nil)
			a := assertionEl(doc.Root())
			orig := stripSignature(a.Copy())
			if id != "" {
				a.CreateAttr("ID", id)
			}
			setNameID(a, testAdmin)
			sig := a.FindElement("./Signature")
			obj := sig.CreateElement("ds:Object")
			obj.AddChild(orig)
			requireWrappingRefused(t, f, doc)
		})
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// CVE-2017-11427 (python-saml; siblings CVE-2017-11428 ruby-saml,
// CVE-2017-11429 clever/saml2, CVE-2017-11430 OmniAuth-SAML, CVE-2018-0489
// Shibboleth; Duo Labs, "Duo Finds SAML Vulnerabilities Affecting Multiple
// Implementations", 2018): a comment splits the signed NameID text. The
// canonical form drops comments, so the signature still verifies, and a
// parser that reads the first text node sees a shorter, different user.
func TestCommentInjectionNameID(t *testing.T) {
	const registered = testAdmin + ".evil.example"
	tests := map[string]func(a *etree.Element){
		"name id": func(a *etree.Element) {
			n := a.FindElement("./Subject/NameID")
			n.SetText(testAdmin)
			n.CreateComment("")
			n.CreateText(".evil.example")
		},
		"attribute value": func(a *etree.Element) {
			v := a.FindElement("./AttributeStatement/Attribute/AttributeValue")
			v.SetText(testAdmin)
			v.CreateComment("")
			v.CreateText(".evil.example")
		},
	}
	for name, inject := range tests {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, func(c *samlCase) {
				c.NameID = registered
				c.Attributes = []testAttr{{Name: "email", Values: []string{registered}}}
			})
			inject(assertionEl(doc.Root()))
			f.mustRefuse(t, encodeDoc(t, doc), idp.ErrInvalidToken)
			// The signature alone still verifies; what it covers is the
			// whole registered name, never the truncated one.
			subject, err := f.verifiedSubject(t, doc)
			if err != nil || subject != registered {
				t.Fatalf("library verification: subject %q, err %v", subject, err)
			}
		})
	}
}

// Signature stripping (Somorovsky et al. 2012 §5.1; CVE-2016-5697
// ruby-saml): the attacker removes or empties the signature and edits the
// assertion.
func TestSignatureStripped(t *testing.T) {
	tests := map[string]func(root *etree.Element){
		"signature removed": func(root *etree.Element) {
			stripSignature(assertionEl(root))
		},
		"signature value emptied": func(root *etree.Element) {
			assertionEl(root).FindElement("./Signature/SignatureValue").SetText("")
		},
		"reference emptied": func(root *etree.Element) {
			assertionEl(root).FindElement("./Signature/SignedInfo/Reference").CreateAttr("URI", "")
		},
		"response signature removed, assertion unsigned": func(root *etree.Element) {
			stripSignature(root)
			stripSignature(assertionEl(root))
		},
	}
	for name, strip := range tests {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, func(c *samlCase) { c.SignResponse = name == "response signature removed, assertion unsigned" })
			strip(doc.Root())
			setNameID(assertionEl(doc.Root()), testAdmin)
			f.mustRefuse(t, encodeDoc(t, doc), idp.ErrInvalidToken)
			if subject, err := f.verifiedSubject(t, doc); err == nil {
				t.Fatalf("library verification accepted an unsigned assertion for %q", subject)
			}
		})
	}
}

// A signature by a key the metadata does not name (CVE-2017-1000452
// samlify; CVE-2020-5390 PySAML2; the KeyInfo-trust class): whatever
// certificate the KeyInfo carries, only metadata keys count.
func TestSignedByKeyNotInMetadata(t *testing.T) {
	tests := map[string]func(c *samlCase){
		"attacker key, attacker cert in KeyInfo": func(c *samlCase) { c.Signer = testKeys()["attacker"] },
		"attacker key, IdP cert in KeyInfo": func(c *samlCase) {
			c.Signer, c.KeyInfoCert = testKeys()["attacker"], testKeys()["idp"].cert
		},
		"attacker key, response signed": func(c *samlCase) {
			c.Signer, c.SignAssertion, c.SignResponse = testKeys()["attacker"], false, true
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, func(c *samlCase) { mutate(c); c.NameID = testAdmin })
			f.mustRefuse(t, encodeDoc(t, doc), idp.ErrInvalidToken)
			_, err := f.verifiedSubject(t, doc)
			if !errors.Is(err, crewsaml.ErrInvalidSignature) {
				t.Fatalf("library verification: %v, want ErrInvalidSignature", err)
			}
		})
	}
	t.Run("attacker key, KeyInfo removed", func(t *testing.T) {
		f := newSAMLFixture(t, nil)
		doc := signedDoc(t, func(c *samlCase) { c.Signer, c.NameID = testKeys()["attacker"], testAdmin })
		ki := assertionEl(doc.Root()).FindElement("./Signature/KeyInfo")
		ki.Parent().RemoveChild(ki)
		f.mustRefuse(t, encodeDoc(t, doc), idp.ErrInvalidToken)
	})
}

// CVE-2022-41912 (crewjam/saml < 0.4.9, GHSA-j2jp-wvqg-wc2g): a response
// with several assertions where only one is signed, and the unsigned one
// is read.
func TestTwoAssertions(t *testing.T) {
	tests := map[string]func(root *etree.Element){
		"unsigned evil after signed": func(root *etree.Element) {
			root.AddChild(evilCopy(assertionEl(root), "_evil-2"))
		},
		"unsigned evil before signed": func(root *etree.Element) {
			a := assertionEl(root)
			root.InsertChildAt(a.Index(), evilCopy(a, "_evil-2"))
		},
		"two signed assertions for different users": func(root *etree.Element) {
			other := newSAMLCase()
			other.AssertionID, other.NameID = "_assert-other", testAdmin
			root.AddChild(assertionEl(other.doc(t).Root()).Copy())
		},
		"evil encrypted assertion beside signed": func(root *etree.Element) {
			enc := root.CreateElement("saml:EncryptedAssertion")
			enc.CreateAttr("xmlns:saml", samlAssertionNS)
		},
	}
	for name, add := range tests {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			doc := signedDoc(t, nil)
			add(doc.Root())
			requireWrappingRefused(t, f, doc)
		})
	}
	t.Run("second assertion inside a signed response", func(t *testing.T) {
		f := newSAMLFixture(t, nil)
		c := newSAMLCase()
		c.SignResponse = true
		d := c.doc(t)
		root := d.Root()
		root.AddChild(evilCopy(assertionEl(root), "_evil-3"))
		f.mustRefuse(t, encodeDoc(t, d), idp.ErrInvalidToken)
	})
}

// Replay (saml-profiles §4.1.4.5: the SP must ensure a bearer assertion is
// not used twice): the same response, the same assertion re-wrapped in a
// new Response, and the same response at another replica sharing the cache.
func TestReplayedAssertion(t *testing.T) {
	f := newSAMLFixture(t, nil)
	c := newSAMLCase()
	posted := c.post(t)
	if _, err := f.consume(t, posted); err != nil {
		t.Fatal(err)
	}
	f.mustRefuse(t, posted, idp.ErrReplay)

	c.ResponseID = "_resp-rewrapped"
	f.mustRefuse(t, c.post(t), idp.ErrReplay)

	replica, err := New(context.Background(), f.sp.cfg, nil, f.clock.Now, f.replay)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := replica.ConsumeResponse(context.Background(), posted, []string{testRequestID}); id != nil || !errors.Is(err, idp.ErrReplay) {
		t.Fatalf("replica accepted a replay: %v", err)
	}
	// The entry outlives every moment the assertion would be accepted.
	until := f.replay.seen[c.AssertionID]
	if latest := c.NotOnOrAfter.Add(f.sp.cfg.ClockSkew); until.Before(latest) && until.Before(c.IssueInstant.Add(crewsaml.MaxIssueDelay+f.sp.cfg.ClockSkew)) {
		t.Fatalf("replay entry ends %s, before the assertion stops being accepted", until)
	}
}

// The audience restriction (saml-core §2.5.1.4) is what stops an assertion
// issued for another SP of the same IdP from being used here (Somorovsky
// et al. 2012 list it among the checks SPs skip).
func TestWrongAudience(t *testing.T) {
	for name, aud := range map[string][][]string{
		"other sp":                    {{"https://other-sp.example.com"}},
		"second restriction excludes": {{testSPEntityID}, {"https://other-sp.example.com"}},
		"prefix of ours":              {{"https://fedgate.example.com/saml/sp"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			f.mustRefuse(t, postCase(t, func(c *samlCase) { c.Audiences = aud }), idp.ErrWrongAudience)
		})
	}
}

// An assertion without an audience is valid at every SP of the IdP;
// fedgate requires one (crewjam made it mandatory only in 0.4.x).
func TestMissingAudience(t *testing.T) {
	for name, aud := range map[string][][]string{"no restriction": nil, "empty audience": {{""}}} {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			f.mustRefuse(t, postCase(t, func(c *samlCase) { c.Audiences = aud }), idp.ErrWrongAudience)
		})
	}
}

// The bearer SubjectConfirmationData Recipient must be our ACS
// (saml-profiles §4.1.4.2), or an assertion meant for another endpoint is
// accepted here.
func TestWrongRecipient(t *testing.T) {
	for name, r := range map[string]string{"other": "https://other-sp.example.com/acs", "missing": "", "query added": testACS + "?x=1"} {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			f.mustRefuse(t, postCase(t, func(c *samlCase) { c.Recipient = r }), idp.ErrWrongRecipient)
		})
	}
}

// The Response Destination must be present and be our ACS
// (saml-bindings §3.5.5.2).
func TestWrongDestination(t *testing.T) {
	for name, mutate := range map[string]func(c *samlCase){
		"other":                      func(c *samlCase) { c.Destination = "https://other-sp.example.com/acs" },
		"missing, assertion signed":  func(c *samlCase) { c.Destination = "" },
		"missing, response signed":   func(c *samlCase) { c.Destination, c.SignResponse = "", true },
		"other, response signed":     func(c *samlCase) { c.Destination, c.SignResponse = "https://evil.example/acs", true },
		"trailing slash differs":     func(c *samlCase) { c.Destination = testACS + "/" },
		"scheme differs (http down)": func(c *samlCase) { c.Destination = strings.Replace(testACS, "https", "http", 1) },
	} {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			f.mustRefuse(t, postCase(t, mutate), idp.ErrWrongRecipient)
		})
	}
}

// The assertion Issuer must be the metadata's entity id, so one IdP cannot
// speak for another.
func TestWrongIssuer(t *testing.T) {
	for name, mutate := range map[string]func(c *samlCase){
		"assertion issuer": func(c *samlCase) { c.AssertionIssuer = "https://other-idp.example.org" },
		"response issuer":  func(c *samlCase) { c.ResponseIssuer = "https://other-idp.example.org" },
		"assertion issuer empty": func(c *samlCase) {
			c.AssertionIssuer = ""
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			f.mustRefuse(t, postCase(t, mutate), idp.ErrWrongIssuer)
		})
	}
}

// Expired assertions (saml-core §2.5.1.2 NotOnOrAfter; §2.4.1.2 for the
// bearer data) are refused beyond the provider's skew.
func TestExpired(t *testing.T) {
	for name, mutate := range map[string]func(c *samlCase){
		"conditions NotOnOrAfter": func(c *samlCase) {
			c.NotOnOrAfter = testSAMLNow.Add(-61 * time.Second)
		},
		"bearer NotOnOrAfter": func(c *samlCase) {
			c.SCDNotOnOrAfter = testSAMLNow.Add(-61 * time.Second)
		},
		"issued too long ago": func(c *samlCase) {
			c.IssueInstant = testSAMLNow.Add(-crewsaml.MaxIssueDelay - 61*time.Second)
			c.NotBefore = c.IssueInstant
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			f.mustRefuse(t, postCase(t, mutate), idp.ErrExpiredToken)
		})
	}
}

// Not-yet-valid assertions (saml-core §2.5.1.2 NotBefore) are refused
// beyond the provider's skew.
func TestNotYetValid(t *testing.T) {
	for name, mutate := range map[string]func(c *samlCase){
		"conditions NotBefore": func(c *samlCase) { c.NotBefore = testSAMLNow.Add(2 * time.Minute) },
		"issued in the future": func(c *samlCase) { c.IssueInstant = testSAMLNow.Add(2 * time.Minute) },
	} {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			f.mustRefuse(t, postCase(t, mutate), idp.ErrInvalidToken)
		})
	}
}

// Unsolicited responses are IdP-initiated SSO, which the SAML profiles
// warn enables login CSRF and replay across browsers (saml-profiles
// §4.1.5); off unless the provider allows it.
func TestUnsolicitedWhenIdPInitiatedOff(t *testing.T) {
	f := newSAMLFixture(t, nil)
	posted := postCase(t, func(c *samlCase) { c.InResponseTo = "" })
	if id, err := f.sp.ConsumeResponse(context.Background(), posted, nil); id != nil || !errors.Is(err, idp.ErrUnsolicited) {
		t.Fatalf("unsolicited accepted or wrong error: %v", err)
	}
	// A pending request does not make a response without InResponseTo
	// acceptable.
	f.mustRefuse(t, posted, idp.ErrUnsolicited)
	// A response to another browser's request is refused too.
	f.mustRefuse(t, postCase(t, func(c *samlCase) { c.InResponseTo = "id-another-browser" }), idp.ErrNonceMismatch)
	// An empty pending id is not a pending request.
	if id, err := f.sp.ConsumeResponse(context.Background(), posted, []string{""}); id != nil || !errors.Is(err, idp.ErrUnsolicited) {
		t.Fatalf("empty request id treated as pending: %v", err)
	}
}

// CVE-2023-28119 (crewjam/saml < 0.4.13, GHSA-5mqj-xc49-246p): a small
// DEFLATE input inflates without bound. fedgate never inflates a posted
// response and caps the posted and decoded sizes before parsing; memory
// allocated while refusing stays far below the bomb's size.
func TestDeflateBomb(t *testing.T) {
	var compressed bytes.Buffer
	w, err := flate.NewWriter(&compressed, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	head := []byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">`)
	_, _ = w.Write(head)
	chunk := bytes.Repeat([]byte("<a/>"), 1<<16)
	for range 128 { // 32 MiB inflated
		_, _ = w.Write(chunk)
	}
	_ = w.Close()
	tests := map[string]struct {
		posted string
		want   error
	}{
		"deflated response":         {base64.StdEncoding.EncodeToString(compressed.Bytes()), idp.ErrInvalidToken},
		"oversized posted string":   {strings.Repeat("PHNhbWw+", 4<<20), idp.ErrTooLarge},
		"decoded size over the cap": {base64.StdEncoding.EncodeToString(append(head, bytes.Repeat([]byte("<a/>"), 80<<10)...)), idp.ErrTooLarge},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			f.mustRefuse(t, tt.posted, tt.want)
			runtime.ReadMemStats(&after)
			if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 4<<20 {
				t.Fatalf("refusing allocated %d bytes", allocated)
			}
		})
	}
}

// Entity expansion ("billion laughs", CVE-2003-1564 class) and external
// entities (XXE): SAML messages carry no DTD, so any DOCTYPE is refused.
func TestDoctypeEntityExpansion(t *testing.T) {
	f := newSAMLFixture(t, nil)
	valid := newSAMLCase().doc(t)
	body, _ := valid.WriteToString()
	for name, dtd := range map[string]string{
		"billion laughs": `<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>`,
		"external":       `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>`,
	} {
		t.Run(name, func(t *testing.T) {
			f.mustRefuse(t, base64.StdEncoding.EncodeToString([]byte(dtd+body)), idp.ErrInvalidToken)
		})
	}
}

// XML round-trip mutations (Mattermost, "Coordinated disclosure: XML
// round-trip vulnerabilities in Go's standard library", 2020: CVE-2020-29509
// attribute prefixes, CVE-2020-29510 directives, CVE-2020-29511 element
// prefixes; GHSA-4hq8-gmxx-h6w9 for crewjam): encoding/xml re-serialises
// these differently, so the signed bytes and the parsed meaning can differ.
// Each mutation of a valid signed response must be refused.
func TestXMLRoundTripMutation(t *testing.T) {
	tests := map[string]func(s string) string{
		"colon in element name": func(s string) string {
			s = strings.Replace(s, "<saml:NameID", "<saml:x:NameID", 1)
			return strings.Replace(s, "</saml:NameID>", "</saml:x:NameID>", 1)
		},
		"colon in attribute name": func(s string) string {
			return strings.Replace(s, `<samlp:Response `, `<samlp:Response x:y:Destination="https://evil.example/acs" `, 1)
		},
		"colon in namespace declaration": func(s string) string {
			return strings.Replace(s, `<saml:NameID`, `<saml:NameID xmlns:x:saml="urn:evil"`, 1)
		},
		"directive inside element": func(s string) string {
			return strings.Replace(s, `<samlp:Status>`, `<samlp:Status><!DOCTYPE x [<!ENTITY y "z">]>`, 1)
		},
		"processing instruction inside element": func(s string) string {
			return strings.Replace(s, `<saml:Subject>`, `<saml:Subject><?evil x?>`, 1)
		},
		"duplicate Destination": func(s string) string {
			return strings.Replace(s, `<samlp:Response `, `<samlp:Response Destination="https://evil.example/acs" `, 1)
		},
		"empty namespace prefix": func(s string) string {
			return strings.Replace(s, `<saml:NameID`, `<saml:NameID xmlns:="urn:evil"`, 1)
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			f := newSAMLFixture(t, nil)
			body, err := newSAMLCase().doc(t).WriteToString()
			if err != nil {
				t.Fatal(err)
			}
			mutated := mutate(body)
			if mutated == body {
				t.Fatal("mutation did not apply")
			}
			f.mustRefuse(t, base64.StdEncoding.EncodeToString([]byte(mutated)), idp.ErrInvalidToken)
		})
	}
}

func postCase(t *testing.T, mutate func(*samlCase)) string {
	t.Helper()
	c := newSAMLCase()
	mutate(c)
	return c.post(t)
}
