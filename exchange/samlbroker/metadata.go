package samlbroker

import (
	"context"
	"encoding/base64"

	"github.com/beevik/etree"
)

// Metadata is the IdP metadata IAM needs (aws iam create-saml-provider
// --saml-metadata-document): the entity id, the SSO location and every
// published signing certificate, so a rotation overlaps.
func (p *IdP) Metadata(ctx context.Context) ([]byte, error) {
	certs, err := p.o.Keys.Certificates(ctx)
	if err != nil {
		return nil, err
	}
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", nsMetadata)
	ed.CreateAttr("xmlns:ds", nsDSig)
	ed.CreateAttr("entityID", p.o.EntityID)
	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("WantAuthnRequestsSigned", "false")
	idp.CreateAttr("protocolSupportEnumeration", nsProtocol)
	for _, c := range certs {
		kd := idp.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", "signing")
		kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(c.Raw))
	}
	idp.CreateElement("md:NameIDFormat").SetText(nameIDPersistent)
	sso := p.o.SSOURL
	if sso == "" {
		sso = p.o.EntityID
	}
	for _, binding := range []string{"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"} {
		s := idp.CreateElement("md:SingleSignOnService")
		s.CreateAttr("Binding", binding)
		s.CreateAttr("Location", sso)
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(ed)
	doc.Indent(2)
	return doc.WriteToBytes()
}
