package samlbroker

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// AWS's SAML endpoint and attribute names (the AWS contract in the design notes).
const (
	AWSSignInURL      = "https://signin.aws.amazon.com/saml"
	AWSAudience       = "https://signin.aws.amazon.com/saml"
	AttrRole          = "https://aws.amazon.com/SAML/Attributes/Role"
	AttrSessionName   = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	AttrDuration      = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
	AttrTagPrefix     = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
	AttrTransitive    = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
	AttrSourceIdentiy = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"

	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"

	nameIDPersistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	bearer           = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	statusSuccess    = "urn:oasis:names:tc:SAML:2.0:status:Success"
	authnUnspecified = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"

	// DefaultAssertionTTL bounds how long a signed response can be used.
	DefaultAssertionTTL = 5 * time.Minute
	// MaxAssertionTTL keeps responses short-lived whatever the configuration.
	MaxAssertionTTL = 10 * time.Minute
)

// Options configure the broker IdP.
type Options struct {
	EntityID     string // fedgate's IdP entity id (the Issuer IAM knows)
	SignInURL    string // Destination and Recipient; default AWSSignInURL
	Audience     string // default AWSAudience
	SSOURL       string // where a person starts a sign-in (published in the metadata)
	AssertionTTL time.Duration
	Keys         *KeyRing
	Now          func() time.Time
	Rand         io.Reader // response and assertion ids
}

// IdP signs AWS-shaped SAML responses.
type IdP struct{ o Options }

// New checks the options and returns the broker IdP.
func New(o Options) (*IdP, error) {
	if o.EntityID == "" || o.Keys == nil || o.Now == nil || o.Rand == nil {
		return nil, errors.New("samlbroker: EntityID, Keys, Now and Rand are required")
	}
	if o.SignInURL == "" {
		o.SignInURL = AWSSignInURL
	}
	if o.Audience == "" {
		o.Audience = AWSAudience
	}
	if o.AssertionTTL == 0 {
		o.AssertionTTL = DefaultAssertionTTL
	}
	if o.AssertionTTL < 0 || o.AssertionTTL > MaxAssertionTTL {
		return nil, fmt.Errorf("samlbroker: assertion TTL %s out of range (0 < ttl <= %s)", o.AssertionTTL, MaxAssertionTTL)
	}
	return &IdP{o: o}, nil
}

// Assertion is what one signed response says about one person and role.
type Assertion struct {
	Subject           string // persistent NameID: the fedgate identity id
	RoleARN           string
	ProviderARN       string // the IAM SAML provider that registers this broker
	SessionName       string
	SessionDuration   time.Duration
	Tags              map[string]string
	TransitiveTagKeys []string
	SourceIdentity    string
}

// ErrInvalidAssertion wraps a refused Assertion.
var ErrInvalidAssertion = errors.New("samlbroker: invalid assertion request")

func (a Assertion) check() error {
	switch {
	case a.Subject == "":
		return fmt.Errorf("%w: subject is required", ErrInvalidAssertion)
	case a.RoleARN == "" || a.ProviderARN == "":
		return fmt.Errorf("%w: role and provider ARNs are required", ErrInvalidAssertion)
	case a.SessionName == "":
		return fmt.Errorf("%w: session name is required", ErrInvalidAssertion)
	}
	return nil
}

// SignResponse returns a samlp:Response whose one Assertion is signed
// (enveloped, exclusive c14n, RSA-SHA256, SHA-256 digest) and carries only
// the given role.
func (p *IdP) SignResponse(ctx context.Context, a Assertion) ([]byte, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	key, err := p.o.Keys.signer(ctx)
	if err != nil {
		return nil, err
	}
	now := p.o.Now().UTC()
	notOnOrAfter := now.Add(p.o.AssertionTTL)
	respID, err := p.newID()
	if err != nil {
		return nil, err
	}
	assertionID, err := p.newID()
	if err != nil {
		return nil, err
	}

	as := etree.NewElement("saml:Assertion")
	as.CreateAttr("xmlns:saml", nsAssertion)
	as.CreateAttr("ID", assertionID)
	as.CreateAttr("Version", "2.0")
	as.CreateAttr("IssueInstant", samlTime(now))
	as.CreateElement("saml:Issuer").SetText(p.o.EntityID)
	subj := as.CreateElement("saml:Subject")
	nameID := subj.CreateElement("saml:NameID")
	nameID.CreateAttr("Format", nameIDPersistent)
	nameID.SetText(a.Subject)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", bearer)
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("NotOnOrAfter", samlTime(notOnOrAfter))
	scd.CreateAttr("Recipient", p.o.SignInURL)
	cond := as.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", samlTime(now))
	cond.CreateAttr("NotOnOrAfter", samlTime(notOnOrAfter))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(p.o.Audience)
	authn := as.CreateElement("saml:AuthnStatement")
	authn.CreateAttr("AuthnInstant", samlTime(now))
	authn.CreateAttr("SessionIndex", assertionID)
	authn.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(authnUnspecified)

	attrs := as.CreateElement("saml:AttributeStatement")
	addAttr := func(name string, values ...string) {
		at := attrs.CreateElement("saml:Attribute")
		at.CreateAttr("Name", name)
		at.CreateAttr("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
		for _, v := range values {
			at.CreateElement("saml:AttributeValue").SetText(v)
		}
	}
	addAttr(AttrRole, a.RoleARN+","+a.ProviderARN)
	addAttr(AttrSessionName, a.SessionName)
	if a.SessionDuration > 0 {
		addAttr(AttrDuration, fmt.Sprint(int64(a.SessionDuration/time.Second)))
	}
	keys := make([]string, 0, len(a.Tags))
	for k := range a.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		addAttr(AttrTagPrefix+k, a.Tags[k])
	}
	if len(a.TransitiveTagKeys) > 0 {
		addAttr(AttrTransitive, a.TransitiveTagKeys...)
	}
	if a.SourceIdentity != "" {
		addAttr(AttrSourceIdentiy, a.SourceIdentity)
	}

	signed, err := signEnveloped(as, key)
	if err != nil {
		return nil, err
	}

	resp := etree.NewElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", nsProtocol)
	resp.CreateAttr("xmlns:saml", nsAssertion)
	resp.CreateAttr("ID", respID)
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", samlTime(now))
	resp.CreateAttr("Destination", p.o.SignInURL)
	resp.CreateElement("saml:Issuer").SetText(p.o.EntityID)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", statusSuccess)
	resp.AddChild(signed)

	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(resp)
	return doc.WriteToBytes()
}

// SignAWSResponse is SignResponse, base64-encoded as STS's SAMLAssertion.
func (p *IdP) SignAWSResponse(ctx context.Context, a Assertion) (string, error) {
	b, err := p.SignResponse(ctx, a)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// signEnveloped signs el and moves the Signature right after the Issuer,
// where the SAML schema wants it (the enveloped transform removes it from
// the digest, so its place does not change what is signed).
func signEnveloped(el *etree.Element, key *ringKey) (*etree.Element, error) {
	ctx, err := dsig.NewSigningContext(key.key, [][]byte{key.cert.Raw})
	if err != nil {
		return nil, fmt.Errorf("samlbroker: signing context: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, fmt.Errorf("samlbroker: signature method: %w", err)
	}
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		return nil, fmt.Errorf("samlbroker: sign: %w", err)
	}
	// goxmldsig appends the Signature without fixing its token index, so
	// etree's RemoveChild would drop the wrong child: rebuild the list.
	kids := signed.Child
	sig, ok := kids[len(kids)-1].(*etree.Element)
	if !ok || sig.Tag != "Signature" {
		return nil, errors.New("samlbroker: signer did not append a Signature")
	}
	reordered := make([]etree.Token, 0, len(kids))
	for _, k := range kids[:len(kids)-1] {
		reordered = append(reordered, k)
		if e, ok := k.(*etree.Element); ok && e.Tag == "Issuer" {
			reordered = append(reordered, sig)
		}
	}
	if len(reordered) != len(kids) {
		return nil, errors.New("samlbroker: assertion has no single Issuer")
	}
	signed.Child = reordered
	return signed.Copy(), nil // Copy renumbers the children
}

func (p *IdP) newID() (string, error) {
	b := make([]byte, 20)
	if _, err := io.ReadFull(p.o.Rand, b); err != nil {
		return "", fmt.Errorf("samlbroker: random id: %w", err)
	}
	return "_" + hex.EncodeToString(b), nil // an xs:ID must not start with a digit
}

func samlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
