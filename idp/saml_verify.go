package idp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
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
	ClaimSAMLIssuer       = "saml:issuer"
	ClaimSAMLSessionIndex = "saml:session_index"
	ClaimSAMLNameIDFormat = "saml:name_id_format"
	// AWSRoleAttribute holds "roleArn,providerArn" pairs (either order).
	AWSRoleAttribute = "https://aws.amazon.com/SAML/Attributes/Role"
)

var reservedSAMLClaims = []string{"sub", ClaimSAMLIssuer, ClaimSAMLSessionIndex, ClaimSAMLNameIDFormat}

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
func (s *SAML) ConsumeResponse(ctx context.Context, samlResponse string, possibleRequestIDs []string) (*Identity, error) {
	assertion, err := s.checkResponse(ctx, samlResponse, possibleRequestIDs, false)
	if err != nil {
		return nil, err
	}
	if err := s.replay.Remember(ctx, assertion.ID, s.replayUntil(assertion)); err != nil {
		if errors.Is(err, ErrReplay) {
			return nil, fmt.Errorf("%w: assertion %q", ErrReplay, assertion.ID)
		}
		return nil, fmt.Errorf("saml replay cache: %w", err)
	}
	return s.identity(assertion, samlResponse), nil
}

// checkResponse runs steps 1–5 of ConsumeResponse. With
// answersAnyRequest (VerifyResponse, for simulation), a response that
// answers a request is taken as answering a pending one; every other check
// is the same.
func (s *SAML) checkResponse(ctx context.Context, samlResponse string, possibleRequestIDs []string, answersAnyRequest bool) (*saml.Assertion, error) {
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
		return nil, fmt.Errorf("%w: no sign-in is pending and IdP-initiated sign-in is off", ErrUnsolicited)
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
func (s *SAML) decodeResponse(posted string) ([]byte, error) {
	if posted == "" {
		return nil, fmt.Errorf("%w: empty SAMLResponse", ErrInvalidToken)
	}
	// The encoded length of MaxResponseBytes, plus line breaks every 64
	// characters as some encoders insert them.
	encodedCap := base64.StdEncoding.EncodedLen(s.cfg.MaxResponseBytes)
	encodedCap += encodedCap / 32
	if len(posted) > encodedCap {
		return nil, fmt.Errorf("%w: posted SAMLResponse is %d bytes, limit %d", ErrTooLarge, len(posted), encodedCap)
	}
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, posted)
	raw, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("%w: SAMLResponse is not base64", ErrInvalidToken)
	}
	if len(raw) > s.cfg.MaxResponseBytes {
		return nil, fmt.Errorf("%w: SAMLResponse is %d bytes, limit %d", ErrTooLarge, len(raw), s.cfg.MaxResponseBytes)
	}
	if !bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n\ufeff"), []byte("<")) {
		// A DEFLATE stream (the HTTP-Redirect encoding) is not accepted on
		// HTTP-POST and is never inflated (CVE-2023-28119 class).
		return nil, fmt.Errorf("%w: SAMLResponse is not XML", ErrInvalidToken)
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
		return responseShape{}, fmt.Errorf("%w: response is not well-formed XML", ErrInvalidToken)
	}
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Directive:
			return responseShape{}, fmt.Errorf("%w: response carries a DTD", ErrInvalidToken)
		case *etree.ProcInst:
			if t.Target != "xml" {
				return responseShape{}, fmt.Errorf("%w: response carries a processing instruction", ErrInvalidToken)
			}
		}
	}
	root := doc.Root()
	if root == nil || root.NamespaceURI() != samlProtocolNS || root.Tag != "Response" {
		return responseShape{}, fmt.Errorf("%w: root element is not samlp:Response", ErrInvalidToken)
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
				return fmt.Errorf("%w: encryption algorithm %q is not accepted", ErrInvalidToken, alg)
			}
		}
		for _, tok := range el.Child {
			switch t := tok.(type) {
			case *etree.Comment:
				// Comments split text nodes: CVE-2017-11427 and siblings.
				return fmt.Errorf("%w: response carries an XML comment", ErrInvalidToken)
			case *etree.ProcInst, *etree.Directive:
				return fmt.Errorf("%w: response carries a processing instruction or directive", ErrInvalidToken)
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
		return responseShape{}, fmt.Errorf("%w: response holds %d assertions, want exactly 1", ErrInvalidToken, assertions)
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
			return fmt.Errorf("%w: response is not well-formed XML", ErrInvalidToken)
		}
		start, ok := tok.(xml.StartElement)
		if !ok || len(start.Attr) < 2 {
			continue
		}
		seen := make(map[xml.Name]bool, len(start.Attr))
		for _, a := range start.Attr {
			if seen[a.Name] {
				return fmt.Errorf("%w: duplicate attribute %s:%s", ErrInvalidToken, a.Name.Space, a.Name.Local)
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
func (s *SAML) verify(meta *saml.EntityDescriptor, raw []byte, ids []string, now time.Time) (*saml.Assertion, error) {
	a, err := s.verifyAt(meta, raw, ids, now)
	if err == nil {
		return a, nil
	}
	var shift time.Duration
	switch {
	case errors.Is(err, saml.ErrExpired):
		shift = -s.cfg.ClockSkew
	case errors.Is(err, saml.ErrNotYetValid):
		shift = s.cfg.ClockSkew
	default:
		return nil, err
	}
	if a, err2 := s.verifyAt(meta, raw, ids, now.Add(shift)); err2 == nil {
		return a, nil
	}
	return nil, err
}

func (s *SAML) verifyAt(meta *saml.EntityDescriptor, raw []byte, ids []string, at time.Time) (*saml.Assertion, error) {
	sp := s.serviceProvider(meta, at)
	a, err := sp.ParseXMLResponse(raw, ids, s.acs)
	if err != nil {
		// InvalidResponseError carries the whole response; keep only the cause.
		var ire *saml.InvalidResponseError
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
	var status saml.ErrBadStatus
	switch {
	case errors.As(err, &status):
		return fmt.Errorf("%w: idp answered with status %s", ErrExchangeFailed, status.Status)
	case errors.Is(err, saml.ErrExpired):
		return fmt.Errorf("%w: saml: %w", ErrExpiredToken, err)
	case errors.Is(err, saml.ErrIssuerMismatch):
		return fmt.Errorf("%w: saml: %w", ErrWrongIssuer, err)
	case errors.Is(err, saml.ErrAudienceMismatch):
		return fmt.Errorf("%w: saml: %w", ErrWrongAudience, err)
	case errors.Is(err, saml.ErrDestinationMismatch):
		return fmt.Errorf("%w: saml: %w", ErrWrongRecipient, err)
	case errors.Is(err, saml.ErrRequestIDMismatch) && shape.inResponseTo == "":
		return fmt.Errorf("%w: saml: %w", ErrUnsolicited, err)
	case errors.Is(err, saml.ErrRequestIDMismatch):
		return fmt.Errorf("%w: saml: %w", ErrNonceMismatch, err)
	}
	return fmt.Errorf("%w: saml: %w", ErrInvalidToken, err)
}

// checkAssertion re-checks, on the verified assertion and with this
// provider's skew, what fedgate relies on, so that no check depends on a
// library default.
func (s *SAML) checkAssertion(a *saml.Assertion, shape responseShape, idpEntityID string, ids []string, now time.Time) error {
	skew := s.cfg.ClockSkew
	acs := s.acs.String()
	if shape.destination == "" {
		return fmt.Errorf("%w: response has no Destination", ErrWrongRecipient)
	}
	if shape.destination != acs {
		return fmt.Errorf("%w: Destination %q is not the ACS URL", ErrWrongRecipient, shape.destination)
	}
	if a.Issuer.Value == "" || a.Issuer.Value != idpEntityID {
		return fmt.Errorf("%w: assertion Issuer %q is not the metadata entity id", ErrWrongIssuer, a.Issuer.Value)
	}
	if a.Conditions == nil || len(a.Conditions.AudienceRestrictions) == 0 {
		return fmt.Errorf("%w: assertion has no AudienceRestriction", ErrWrongAudience)
	}
	for i := range a.Conditions.AudienceRestrictions {
		if !slices.ContainsFunc(a.Conditions.AudienceRestrictions[i].AllAudiences(), func(v saml.Audience) bool { return v.Value == s.cfg.EntityID }) {
			return fmt.Errorf("%w: an AudienceRestriction does not name %q", ErrWrongAudience, s.cfg.EntityID)
		}
	}
	if a.IssueInstant.IsZero() || a.IssueInstant.After(now.Add(skew)) {
		return fmt.Errorf("%w: assertion IssueInstant is in the future", ErrInvalidToken)
	}
	if now.After(a.IssueInstant.Add(saml.MaxIssueDelay + skew)) {
		return fmt.Errorf("%w: assertion was issued at %s", ErrExpiredToken, a.IssueInstant.UTC().Format(time.RFC3339))
	}
	if nb := a.Conditions.NotBefore; !nb.IsZero() && nb.After(now.Add(skew)) {
		return fmt.Errorf("%w: assertion is not valid before %s", ErrInvalidToken, nb.UTC().Format(time.RFC3339))
	}
	if na := a.Conditions.NotOnOrAfter; !na.IsZero() && !now.Before(na.Add(skew)) {
		return fmt.Errorf("%w: assertion expired at %s", ErrExpiredToken, na.UTC().Format(time.RFC3339))
	}
	if err := s.checkBearer(a.Subject, ids, now); err != nil {
		return err
	}
	if a.Subject.NameID == nil || a.Subject.NameID.Value == "" {
		return fmt.Errorf("%w: assertion has no NameID", ErrMissingSubject)
	}
	return nil
}

// checkBearer requires one bearer confirmation addressed to the ACS, valid
// now, answering a pending request (or none, if IdP-initiated is allowed).
func (s *SAML) checkBearer(subject *saml.Subject, ids []string, now time.Time) error {
	if subject == nil {
		return fmt.Errorf("%w: assertion has no Subject", ErrMissingSubject)
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
			err = fmt.Errorf("%w: bearer confirmation has no data", ErrInvalidToken)
		case d.Recipient != s.acs.String():
			err = fmt.Errorf("%w: Recipient %q is not the ACS URL", ErrWrongRecipient, d.Recipient)
		case d.NotOnOrAfter.IsZero() || !now.Before(d.NotOnOrAfter.Add(skew)):
			err = fmt.Errorf("%w: bearer confirmation expired", ErrExpiredToken)
		case !d.NotBefore.IsZero() && d.NotBefore.After(now.Add(skew)):
			err = fmt.Errorf("%w: bearer confirmation not yet valid", ErrInvalidToken)
		case d.InResponseTo == "" && !s.cfg.AllowIdPInitiated:
			err = fmt.Errorf("%w: assertion answers no request", ErrUnsolicited)
		case d.InResponseTo != "" && !slices.Contains(ids, d.InResponseTo):
			err = fmt.Errorf("%w: assertion answers another request", ErrNonceMismatch)
		default:
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("%w: assertion has no bearer confirmation", ErrInvalidToken)
	}
	return firstErr
}

// replayUntil is no earlier than the last moment checkAssertion would
// accept the assertion, so a replay cannot outlive its cache entry.
func (s *SAML) replayUntil(a *saml.Assertion) time.Time {
	until := a.IssueInstant.Add(saml.MaxIssueDelay + s.cfg.ClockSkew)
	if na := a.Conditions.NotOnOrAfter; !na.IsZero() && na.Add(s.cfg.ClockSkew).Before(until) {
		until = na.Add(s.cfg.ClockSkew)
	}
	return until.Add(time.Second)
}

func (s *SAML) identity(a *saml.Assertion, posted string) *Identity {
	claims := attributesToClaims(a.AttributeStatements)
	claims["sub"] = a.Subject.NameID.Value
	claims[ClaimSAMLIssuer] = a.Issuer.Value
	if f := a.Subject.NameID.Format; f != "" {
		claims[ClaimSAMLNameIDFormat] = f
	}
	for _, st := range a.AuthnStatements {
		if st.SessionIndex != "" {
			claims[ClaimSAMLSessionIndex] = st.SessionIndex
			break
		}
	}
	return &Identity{Provider: s.cfg.ID, Subject: a.Subject.NameID.Value, Claims: claims, RawToken: posted}
}

// attributesToClaims maps SAML attributes to claims keyed by attribute
// Name (never FriendlyName, which is not an identifier: saml-core
// §2.7.3.1). One value becomes a string, several a []any of strings, none
// an empty list; repeated attributes are merged in document order. A value
// that is a NameID contributes its text. Reserved claim names are dropped.
func attributesToClaims(statements []saml.AttributeStatement) map[string]any {
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

// RolePair is one AWS role a SAML assertion offers, with the IAM SAML
// provider that AssumeRoleWithSAML must name for it.
type RolePair struct {
	RoleARN     string
	ProviderARN string
}

var (
	roleARNPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	providerARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:saml-provider/[\w.-]{1,128}$`)
)

// AWSRoles reads the identity's https://aws.amazon.com/SAML/Attributes/Role
// values ("roleArn,providerArn" in either order, as AWS accepts). Malformed
// values are skipped; duplicates are dropped; order is kept.
func (s *SAML) AWSRoles(id *Identity) []RolePair {
	if id == nil {
		return nil
	}
	return ParseAWSRoles(id.Claims[AWSRoleAttribute])
}

// ParseAWSRoles parses a Role claim value (a string or a list of strings).
func ParseAWSRoles(claim any) []RolePair {
	var raw []string
	switch v := claim.(type) {
	case string:
		raw = []string{v}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				raw = append(raw, s)
			}
		}
	case []string:
		raw = v
	}
	var out []RolePair
	for _, value := range raw {
		parts := strings.Split(value, ",")
		if len(parts) != 2 {
			continue
		}
		a, b := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		if providerARNPattern.MatchString(a) {
			a, b = b, a
		}
		if !roleARNPattern.MatchString(a) || !providerARNPattern.MatchString(b) {
			continue
		}
		p := RolePair{RoleARN: a, ProviderARN: b}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
