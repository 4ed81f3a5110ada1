package saml

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	crewsaml "github.com/crewjam/saml"

	"fedgate/idp"
)

// SAML namespaces.
const (
	samlProtocolNS  = "urn:oasis:names:tc:SAML:2.0:protocol"
	samlAssertionNS = "urn:oasis:names:tc:SAML:2.0:assertion"
	xmlencNS        = "http://www.w3.org/2001/04/xmlenc#"
	bearerMethod    = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// Claim names a SAML identity carries besides its attributes. An attribute
// with one of these names is dropped: the IdP cannot override them.
const (
	ClaimIssuer       = "saml:issuer"
	ClaimSessionIndex = "saml:session_index"
	ClaimNameIDFormat = "saml:name_id_format"
)

var reservedSAMLClaims = []string{"sub", ClaimIssuer, ClaimSessionIndex, ClaimNameIDFormat}

// allowedEncryption lists the XML Encryption algorithms accepted in an
// EncryptedAssertion: AES (CBC or GCM) content encryption and RSA-OAEP key
// transport. rsa-1_5 (Bleichenbacher), 3DES and key wrapping are refused.
var allowedEncryption = map[string]bool{
	"http://www.w3.org/2001/04/xmlenc#aes128-cbc":     true,
	"http://www.w3.org/2001/04/xmlenc#aes192-cbc":     true,
	"http://www.w3.org/2001/04/xmlenc#aes256-cbc":     true,
	"http://www.w3.org/2009/xmlenc11#aes128-gcm":      true,
	"http://www.w3.org/2009/xmlenc11#aes192-gcm":      true,
	"http://www.w3.org/2009/xmlenc11#aes256-gcm":      true,
	"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p": true,
	"http://www.w3.org/2009/xmlenc11#rsa-oaep":        true,
}

// responseShape is what fedgate reads from the document as received,
// before and independently of signature verification. It is used only to
// refuse, never as a source of identity.
type responseShape struct {
	destination  string
	inResponseTo string
}

// ConsumeResponse verifies a base64 SAMLResponse posted to the ACS and
// returns the identity its single signed assertion vouches for. In order:
//
//  1. size: the posted string, then the decoded XML, against
//     MaxResponseBytes; the response is never inflated (HTTP-POST binding);
//  2. shape, on the document as received: no DTD, comments or processing
//     instructions, no duplicate attributes, a samlp:Response root, exactly
//     one Assertion or EncryptedAssertion anywhere, only strong encryption;
//  3. unsolicited responses refused unless AllowIdPInitiated;
//  4. crewjam/saml: XML round-trip safety, signature by a metadata key
//     (SHA-1 refused), reading only what the signature covers, Issuer,
//     Destination, Recipient, InResponseTo, audience, conditions, status;
//  5. fedgate's own checks on the verified assertion, with this provider's
//     clock skew: Destination present and equal to the ACS URL, Issuer,
//     audience present and equal to EntityID, time window, bearer Recipient,
//     a non-empty NameID;
//  6. the replay cache, only once all of the above passed.
func (s *Provider) ConsumeResponse(ctx context.Context, samlResponse string, possibleRequestIDs []string) (*idp.Identity, error) {
	assertion, err := s.checkResponse(ctx, samlResponse, possibleRequestIDs, false)
	if err != nil {
		return nil, err
	}
	if err := s.replay.Remember(ctx, assertion.ID, s.replayUntil(assertion)); err != nil {
		if errors.Is(err, idp.ErrReplay) {
			return nil, fmt.Errorf("%w: assertion %q", idp.ErrReplay, assertion.ID)
		}
		return nil, fmt.Errorf("saml replay cache: %w", err)
	}
	return s.identity(assertion, samlResponse), nil
}

// checkResponse runs steps 1–5 of ConsumeResponse. With
// answersAnyRequest (VerifyResponse, for simulation), a response that
// answers a request is taken as answering a pending one; every other check
// is the same.
func (s *Provider) checkResponse(ctx context.Context, samlResponse string, possibleRequestIDs []string, answersAnyRequest bool) (*crewsaml.Assertion, error) {
	raw, err := s.decodeResponse(samlResponse)
	if err != nil {
		return nil, err
	}
	shape, err := inspectResponse(raw)
	if err != nil {
		return nil, err
	}
	ids := slices.DeleteFunc(slices.Clone(possibleRequestIDs), func(id string) bool { return id == "" })
	if answersAnyRequest && shape.inResponseTo != "" {
		ids = []string{shape.inResponseTo}
	}
	if len(ids) == 0 && !s.cfg.AllowIdPInitiated {
		return nil, fmt.Errorf("%w: no sign-in is pending and IdP-initiated sign-in is off", idp.ErrUnsolicited)
	}
	meta, err := s.metadata(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	assertion, err := s.verify(meta, raw, ids, now)
	if err != nil {
		return nil, samlError(err, shape)
	}
	if err := s.checkAssertion(assertion, shape, meta.EntityID, ids, now); err != nil {
		return nil, err
	}
	return assertion, nil
}

// decodeResponse enforces the size caps around base64 decoding.
func (s *Provider) decodeResponse(posted string) ([]byte, error) {
	if posted == "" {
		return nil, fmt.Errorf("%w: empty SAMLResponse", idp.ErrInvalidToken)
	}
	// The encoded length of MaxResponseBytes, plus line breaks every 64
	// characters as some encoders insert them.
	encodedCap := base64.StdEncoding.EncodedLen(s.cfg.MaxResponseBytes)
	encodedCap += encodedCap / 32
	if len(posted) > encodedCap {
		return nil, fmt.Errorf("%w: posted SAMLResponse is %d bytes, limit %d", idp.ErrTooLarge, len(posted), encodedCap)
	}
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, posted)
	raw, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("%w: SAMLResponse is not base64", idp.ErrInvalidToken)
	}
	if len(raw) > s.cfg.MaxResponseBytes {
		return nil, fmt.Errorf("%w: SAMLResponse is %d bytes, limit %d", idp.ErrTooLarge, len(raw), s.cfg.MaxResponseBytes)
	}
	if !bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n\ufeff"), []byte("<")) {
		// A DEFLATE stream (the HTTP-Redirect encoding) is not accepted on
		// HTTP-POST and is never inflated (CVE-2023-28119 class).
		return nil, fmt.Errorf("%w: SAMLResponse is not XML", idp.ErrInvalidToken)
	}
	return raw, nil
}

// inspectResponse parses the document as received and refuses shapes no
// honest IdP sends and which signature-wrapping or parser-differential
// attacks need.
func inspectResponse(raw []byte) (responseShape, error) {
	if err := checkDuplicateAttributes(raw); err != nil {
		return responseShape{}, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return responseShape{}, fmt.Errorf("%w: response is not well-formed XML", idp.ErrInvalidToken)
	}
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Directive:
			return responseShape{}, fmt.Errorf("%w: response carries a DTD", idp.ErrInvalidToken)
		case *etree.ProcInst:
			if t.Target != "xml" {
				return responseShape{}, fmt.Errorf("%w: response carries a processing instruction", idp.ErrInvalidToken)
			}
		}
	}
	root := doc.Root()
	if root == nil || root.NamespaceURI() != samlProtocolNS || root.Tag != "Response" {
		return responseShape{}, fmt.Errorf("%w: root element is not samlp:Response", idp.ErrInvalidToken)
	}
	assertions := 0
	var walk func(el *etree.Element) error
	walk = func(el *etree.Element) error {
		ns := el.NamespaceURI()
		if ns == samlAssertionNS && (el.Tag == "Assertion" || el.Tag == "EncryptedAssertion") {
			assertions++
		}
		if ns == xmlencNS && el.Tag == "EncryptionMethod" {
			if alg := el.SelectAttrValue("Algorithm", ""); !allowedEncryption[alg] {
				return fmt.Errorf("%w: encryption algorithm %q is not accepted", idp.ErrInvalidToken, alg)
			}
		}
		for _, tok := range el.Child {
			switch t := tok.(type) {
			case *etree.Comment:
				// Comments split text nodes: CVE-2017-11427 and siblings.
				return fmt.Errorf("%w: response carries an XML comment", idp.ErrInvalidToken)
			case *etree.ProcInst, *etree.Directive:
				return fmt.Errorf("%w: response carries a processing instruction or directive", idp.ErrInvalidToken)
			case *etree.Element:
				if err := walk(t); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return responseShape{}, err
	}
	if assertions != 1 {
		// CVE-2022-41912 and the XSW family need a second assertion.
		return responseShape{}, fmt.Errorf("%w: response holds %d assertions, want exactly 1", idp.ErrInvalidToken, assertions)
	}
	return responseShape{
		destination:  root.SelectAttrValue("Destination", ""),
		inResponseTo: root.SelectAttrValue("InResponseTo", ""),
	}, nil
}

// checkDuplicateAttributes refuses an element that repeats an attribute
// (not well-formed XML, XML 1.0 §3.1). etree keeps one copy silently and
// encoding/xml keeps both, so the check needs the raw tokens: otherwise the
// value fedgate checks and the value another parser (STS, in saml-forward
// mode) reads could differ.
func checkDuplicateAttributes(raw []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: response is not well-formed XML", idp.ErrInvalidToken)
		}
		start, ok := tok.(xml.StartElement)
		if !ok || len(start.Attr) < 2 {
			continue
		}
		seen := make(map[xml.Name]bool, len(start.Attr))
		for _, a := range start.Attr {
			if seen[a.Name] {
				return fmt.Errorf("%w: duplicate attribute %s:%s", idp.ErrInvalidToken, a.Name.Space, a.Name.Local)
			}
			seen[a.Name] = true
		}
	}
}

// verify runs crewjam's verification at now. crewjam's clock allowances
// are package constants (MaxClockSkew 3m, MaxIssueDelay 90s), so for a
// time failure it runs once more with its clock moved by this provider's
// skew; checkAssertion then applies the provider's own window to the
// verified assertion.
func (s *Provider) verify(meta *crewsaml.EntityDescriptor, raw []byte, ids []string, now time.Time) (*crewsaml.Assertion, error) {
	a, err := s.verifyAt(meta, raw, ids, now)
	if err == nil {
		return a, nil
	}
	var shift time.Duration
	switch {
	case errors.Is(err, crewsaml.ErrExpired):
		shift = -s.cfg.ClockSkew
	case errors.Is(err, crewsaml.ErrNotYetValid):
		shift = s.cfg.ClockSkew
	default:
		return nil, err
	}
	if a, err2 := s.verifyAt(meta, raw, ids, now.Add(shift)); err2 == nil {
		return a, nil
	}
	return nil, err
}

func (s *Provider) verifyAt(meta *crewsaml.EntityDescriptor, raw []byte, ids []string, at time.Time) (*crewsaml.Assertion, error) {
	sp := s.serviceProvider(meta, at)
	a, err := sp.ParseXMLResponse(raw, ids, s.acs)
	if err != nil {
		// InvalidResponseError carries the whole response; keep only the cause.
		var ire *crewsaml.InvalidResponseError
		if errors.As(err, &ire) && ire.PrivateErr != nil {
			return nil, ire.PrivateErr
		}
		return nil, err
	}
	return a, nil
}

// samlError maps a crewjam refusal to an idp sentinel, keeping crewjam's
// classified error as the private cause.
func samlError(err error, shape responseShape) error {
	var status crewsaml.ErrBadStatus
	switch {
	case errors.As(err, &status):
		return fmt.Errorf("%w: idp answered with status %s", idp.ErrExchangeFailed, status.Status)
	case errors.Is(err, crewsaml.ErrExpired):
		return fmt.Errorf("%w: saml: %w", idp.ErrExpiredToken, err)
	case errors.Is(err, crewsaml.ErrIssuerMismatch):
		return fmt.Errorf("%w: saml: %w", idp.ErrWrongIssuer, err)
	case errors.Is(err, crewsaml.ErrAudienceMismatch):
		return fmt.Errorf("%w: saml: %w", idp.ErrWrongAudience, err)
	case errors.Is(err, crewsaml.ErrDestinationMismatch):
		return fmt.Errorf("%w: saml: %w", idp.ErrWrongRecipient, err)
	case errors.Is(err, crewsaml.ErrRequestIDMismatch) && shape.inResponseTo == "":
		return fmt.Errorf("%w: saml: %w", idp.ErrUnsolicited, err)
	case errors.Is(err, crewsaml.ErrRequestIDMismatch):
		return fmt.Errorf("%w: saml: %w", idp.ErrNonceMismatch, err)
	}
	return fmt.Errorf("%w: saml: %w", idp.ErrInvalidToken, err)
}

// checkAssertion re-checks, on the verified assertion and with this
// provider's skew, what fedgate relies on, so that no check depends on a
// library default.
func (s *Provider) checkAssertion(a *crewsaml.Assertion, shape responseShape, idpEntityID string, ids []string, now time.Time) error {
	skew := s.cfg.ClockSkew
	acs := s.acs.String()
	if shape.destination == "" {
		return fmt.Errorf("%w: response has no Destination", idp.ErrWrongRecipient)
	}
	if shape.destination != acs {
		return fmt.Errorf("%w: Destination %q is not the ACS URL", idp.ErrWrongRecipient, shape.destination)
	}
	if a.Issuer.Value == "" || a.Issuer.Value != idpEntityID {
		return fmt.Errorf("%w: assertion Issuer %q is not the metadata entity id", idp.ErrWrongIssuer, a.Issuer.Value)
	}
	if a.Conditions == nil || len(a.Conditions.AudienceRestrictions) == 0 {
		return fmt.Errorf("%w: assertion has no AudienceRestriction", idp.ErrWrongAudience)
	}
	for i := range a.Conditions.AudienceRestrictions {
		if !slices.ContainsFunc(a.Conditions.AudienceRestrictions[i].AllAudiences(), func(v crewsaml.Audience) bool { return v.Value == s.cfg.EntityID }) {
			return fmt.Errorf("%w: an AudienceRestriction does not name %q", idp.ErrWrongAudience, s.cfg.EntityID)
		}
	}
	if a.IssueInstant.IsZero() || a.IssueInstant.After(now.Add(skew)) {
		return fmt.Errorf("%w: assertion IssueInstant is in the future", idp.ErrInvalidToken)
	}
	if now.After(a.IssueInstant.Add(crewsaml.MaxIssueDelay + skew)) {
		return fmt.Errorf("%w: assertion was issued at %s", idp.ErrExpiredToken, a.IssueInstant.UTC().Format(time.RFC3339))
	}
	if nb := a.Conditions.NotBefore; !nb.IsZero() && nb.After(now.Add(skew)) {
		return fmt.Errorf("%w: assertion is not valid before %s", idp.ErrInvalidToken, nb.UTC().Format(time.RFC3339))
	}
	if na := a.Conditions.NotOnOrAfter; !na.IsZero() && !now.Before(na.Add(skew)) {
		return fmt.Errorf("%w: assertion expired at %s", idp.ErrExpiredToken, na.UTC().Format(time.RFC3339))
	}
	if err := s.checkBearer(a.Subject, ids, now); err != nil {
		return err
	}
	if a.Subject.NameID == nil || a.Subject.NameID.Value == "" {
		return fmt.Errorf("%w: assertion has no NameID", idp.ErrMissingSubject)
	}
	return idp.CheckSubject(a.Subject.NameID.Value)
}

// checkBearer requires one bearer confirmation addressed to the ACS, valid
// now, answering a pending request (or none, if IdP-initiated is allowed).
func (s *Provider) checkBearer(subject *crewsaml.Subject, ids []string, now time.Time) error {
	if subject == nil {
		return fmt.Errorf("%w: assertion has no Subject", idp.ErrMissingSubject)
	}
	skew := s.cfg.ClockSkew
	var firstErr error
	for _, sc := range subject.SubjectConfirmations {
		d := sc.SubjectConfirmationData
		var err error
		switch {
		case sc.Method != bearerMethod:
			continue
		case d == nil:
			err = fmt.Errorf("%w: bearer confirmation has no data", idp.ErrInvalidToken)
		case d.Recipient != s.acs.String():
			err = fmt.Errorf("%w: Recipient %q is not the ACS URL", idp.ErrWrongRecipient, d.Recipient)
		case d.NotOnOrAfter.IsZero() || !now.Before(d.NotOnOrAfter.Add(skew)):
			err = fmt.Errorf("%w: bearer confirmation expired", idp.ErrExpiredToken)
		case !d.NotBefore.IsZero() && d.NotBefore.After(now.Add(skew)):
			err = fmt.Errorf("%w: bearer confirmation not yet valid", idp.ErrInvalidToken)
		case d.InResponseTo == "" && !s.cfg.AllowIdPInitiated:
			err = fmt.Errorf("%w: assertion answers no request", idp.ErrUnsolicited)
		case d.InResponseTo != "" && !slices.Contains(ids, d.InResponseTo):
			err = fmt.Errorf("%w: assertion answers another request", idp.ErrNonceMismatch)
		default:
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("%w: assertion has no bearer confirmation", idp.ErrInvalidToken)
	}
	return firstErr
}

// replayUntil is no earlier than the last moment checkAssertion would
// accept the assertion, so a replay cannot outlive its cache entry.
func (s *Provider) replayUntil(a *crewsaml.Assertion) time.Time {
	until := a.IssueInstant.Add(crewsaml.MaxIssueDelay + s.cfg.ClockSkew)
	if na := a.Conditions.NotOnOrAfter; !na.IsZero() && na.Add(s.cfg.ClockSkew).Before(until) {
		until = na.Add(s.cfg.ClockSkew)
	}
	return until.Add(time.Second)
}

func (s *Provider) identity(a *crewsaml.Assertion, posted string) *idp.Identity {
	claims := attributesToClaims(a.AttributeStatements)
	claims["sub"] = a.Subject.NameID.Value
	claims[ClaimIssuer] = a.Issuer.Value
	if f := a.Subject.NameID.Format; f != "" {
		claims[ClaimNameIDFormat] = f
	}
	for _, st := range a.AuthnStatements {
		if st.SessionIndex != "" {
			claims[ClaimSessionIndex] = st.SessionIndex
			break
		}
	}
	return &idp.Identity{Provider: s.cfg.ID, Subject: a.Subject.NameID.Value, Claims: claims, RawToken: posted}
}

// attributesToClaims maps SAML attributes to claims keyed by attribute
// Name (never FriendlyName, which is not an identifier: saml-core
// §2.7.3.1). One value becomes a string, several a []any of strings, none
// an empty list; repeated attributes are merged in document order. A value
// that is a NameID contributes its text. Reserved claim names are dropped.
func attributesToClaims(statements []crewsaml.AttributeStatement) map[string]any {
	values := map[string][]any{}
	var order []string
	for _, st := range statements {
		for _, attr := range st.Attributes {
			if attr.Name == "" || slices.Contains(reservedSAMLClaims, attr.Name) {
				continue
			}
			if _, ok := values[attr.Name]; !ok {
				order = append(order, attr.Name)
				values[attr.Name] = []any{}
			}
			for _, v := range attr.Values {
				text := v.Value
				if v.NameID != nil {
					text = v.NameID.Value
				}
				values[attr.Name] = append(values[attr.Name], text)
			}
		}
	}
	claims := make(map[string]any, len(order)+len(reservedSAMLClaims))
	for _, name := range order {
		if vs := values[name]; len(vs) == 1 {
			claims[name] = vs[0]
		} else {
			claims[name] = vs
		}
	}
	return claims
}

// AWSRoles reads the identity's https://aws.amazon.com/SAML/Attributes/Role
// values ("roleArn,providerArn" in either order, as AWS accepts). Malformed
// values are skipped; duplicates are dropped; order is kept.
func (s *Provider) AWSRoles(id *idp.Identity) []idp.RolePair {
	if id == nil {
		return nil
	}
	return idp.ParseAWSRoles(id.Claims[idp.AWSRoleAttribute])
}
