package saml

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"slices"
	"strings"
	"testing"

	crewsaml "github.com/crewjam/saml"

	"fedgate/gateway/testkit"
	"fedgate/idp"
)

// FuzzConsumeResponse feeds arbitrary documents (raw, or as posted) to a
// provider at a fixed time. Whatever the input, an accepted response can
// only carry what the test IdP signed: the fuzzer cannot forge signatures,
// so any other identity is a verification bug.
func FuzzConsumeResponse(f *testing.F) {
	seeds := []func(*samlCase){
		func(*samlCase) {},
		func(c *samlCase) { c.SignAssertion, c.SignResponse = false, true },
		func(c *samlCase) { c.SignResponse = true },
		func(c *samlCase) { c.Signer = testKeys()["attacker"] },
	}
	for _, mutate := range seeds {
		c := newSAMLCase()
		mutate(c)
		raw, err := c.doc(f).WriteToBytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, false)
		f.Add([]byte(base64.StdEncoding.EncodeToString(raw)), true)
	}
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><!DOCTYPE x></samlp:Response>`), false)
	f.Add([]byte("PHNhbWw+"), true)

	sp := newForgetfulSP(f, nil)
	f.Fuzz(func(t *testing.T, data []byte, posted bool) {
		in := string(data)
		if !posted {
			in = base64.StdEncoding.EncodeToString(data)
		}
		id, err := sp.ConsumeResponse(context.Background(), in, []string{testRequestID})
		if err != nil {
			if id != nil {
				t.Fatal("identity returned with an error")
			}
			return
		}
		if id.Subject != testAlice || id.Claims["sub"] != testAlice || id.Claims["email"] != testAlice ||
			id.Claims[ClaimIssuer] != testIdPEntityID || id.RawToken != in {
			t.Fatalf("accepted an identity the IdP did not sign: %+v", id)
		}
	})
}

// FuzzAttributesToClaims maps arbitrary AttributeStatements. Reserved
// claims never appear, every value is a string or a list of strings, and
// the Role claim parses only into well-formed ARNs.
func FuzzAttributesToClaims(f *testing.F) {
	f.Add(`<saml:AttributeStatement xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Attribute Name="groups"><saml:AttributeValue>a</saml:AttributeValue><saml:AttributeValue>b</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`)
	f.Add(`<saml:AttributeStatement xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Attribute Name="sub"><saml:AttributeValue>root</saml:AttributeValue></saml:Attribute><saml:Attribute Name="x"/></saml:AttributeStatement>`)
	f.Add(`<saml:AttributeStatement xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><saml:AttributeValue>arn:aws:iam::123456789012:saml-provider/p,arn:aws:iam::123456789012:role/r</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`)
	f.Add(`<saml:AttributeStatement xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Attribute Name="id"><saml:AttributeValue><saml:NameID>n</saml:NameID></saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`)
	f.Fuzz(func(t *testing.T, doc string) {
		var st crewsaml.AttributeStatement
		if xml.Unmarshal([]byte(doc), &st) != nil {
			return
		}
		claims := attributesToClaims([]crewsaml.AttributeStatement{st})
		for _, reserved := range reservedSAMLClaims {
			if _, ok := claims[reserved]; ok {
				t.Fatalf("reserved claim %q set by an attribute", reserved)
			}
		}
		for name, v := range claims {
			if name == "" {
				t.Fatal("empty claim name")
			}
			switch v := v.(type) {
			case string:
			case []any:
				if len(v) == 1 {
					t.Fatalf("claim %q: a single value must be a string", name)
				}
				for _, e := range v {
					if _, ok := e.(string); !ok {
						t.Fatalf("claim %q holds %T", name, e)
					}
				}
			default:
				t.Fatalf("claim %q is %T", name, v)
			}
		}
		// The ARN patterns belong to idp.ParseAWSRoles (FuzzParseAWSRoles):
		// here every pair must be one it accepts on its own.
		for _, p := range idp.ParseAWSRoles(claims[idp.AWSRoleAttribute]) {
			again := idp.ParseAWSRoles(p.RoleARN + "," + p.ProviderARN)
			if len(again) != 1 || again[0] != p || strings.Contains(p.RoleARN+p.ProviderARN, ",") {
				t.Fatalf("bad role pair %+v", p)
			}
		}
		if roles := idp.ParseAWSRoles(claims[idp.AWSRoleAttribute]); len(slices.Compact(slices.Clone(roles))) != len(roles) {
			t.Fatal("duplicate role pairs")
		}
	})
}

func BenchmarkSAMLConsumeResponse(b *testing.B) {
	sp := newForgetfulSP(b, unsignedRequests)
	posted := newSAMLCase().post(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sp.ConsumeResponse(context.Background(), posted, []string{testRequestID}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSAMLAuthnRequestURL(b *testing.B) {
	sp := newForgetfulSP(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := sp.AuthnRequestURL(idp.Flow{State: "state"}); err != nil {
			b.Fatal(err)
		}
	}
}

// newForgetfulSP is the test SP with a replay cache that forgets, so one
// response can be posted again and again.
func newForgetfulSP(tb testing.TB, mutate func(*Config)) *Provider {
	tb.Helper()
	sp, err := New(context.Background(), testSPConfig(mutate), nil, testkit.NewClock(testSAMLNow).Now, forgetfulReplay{})
	if err != nil {
		tb.Fatal(err)
	}
	return sp
}

// unsignedRequests drops the SP key: requests go unsigned.
func unsignedRequests(c *Config) { c.SigningKey, c.Certificate = nil, nil }

// FuzzParseIdPMetadata feeds arbitrary documents (fetched from
// idp_metadata_url, so untrusted) to parseIdPMetadata: it must never
// panic, and what it accepts must name an entity and hold at least one
// signing certificate that parses.
func FuzzParseIdPMetadata(f *testing.F) {
	one := idpMetadataXML(testIdPEntityID, testKeys()["idp"].cert)
	f.Add(one)
	f.Add([]byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` + strings.TrimPrefix(string(one), `<?xml version="1.0"?>`) + `</md:EntitiesDescriptor>`))
	f.Add(idpMetadataXML(""))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&a;"/>`))
	f.Add([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:IDPSSODescriptor><md:KeyDescriptor><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := parseIdPMetadata(data)
		if err != nil {
			return
		}
		if md.EntityID == "" || len(md.IDPSSODescriptors) == 0 {
			t.Fatalf("accepted metadata without an entity id or IdP descriptor")
		}
		certs := 0
		for _, d := range md.IDPSSODescriptors {
			for _, kd := range d.KeyDescriptors {
				for _, c := range kd.KeyInfo.X509Data.X509Certificates {
					if _, err := parseMetadataCert(c.Data); err == nil {
						certs++
					}
				}
			}
		}
		if certs == 0 {
			t.Fatal("accepted metadata without a certificate that parses")
		}
	})
}

// FuzzParseMetadataCert: any text must parse to a certificate whose DER
// is exactly what the text encodes, or be refused; never a panic.
func FuzzParseMetadataCert(f *testing.F) {
	der := testKeys()["idp"].cert.Raw
	f.Add(base64.StdEncoding.EncodeToString(der))
	f.Add(" " + base64.StdEncoding.EncodeToString(der[:40]) + "\n\t" + base64.StdEncoding.EncodeToString(der[40:]))
	f.Add("AAAA")
	f.Add("not base64!")
	f.Fuzz(func(t *testing.T, data string) {
		cert, err := parseMetadataCert(data)
		if err != nil {
			return
		}
		again, err := parseMetadataCert(base64.StdEncoding.EncodeToString(cert.Raw))
		if err != nil || !again.Equal(cert) {
			t.Fatalf("certificate does not survive a round trip: %v", err)
		}
	})
}
