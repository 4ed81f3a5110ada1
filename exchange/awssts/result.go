package awssts

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	smithytime "github.com/aws/smithy-go/time"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// resultProtocol is the SDK's awsQuery protocol with a quicker reading of
// the answer every vend waits for: a successful AssumeRoleWith* result.
// The SDK reads it through encoding/xml's token stream, well over a hundred
// allocations an answer; STS writes it as a few plain elements, which
// scanResult reads directly. Anything else (attributes, entities, CDATA,
// comments, an element it does not know, a value that does not parse) and
// every error answer goes to the SDK's own decoder, unchanged.
type resultProtocol struct {
	smithyhttp.ClientProtocol
	bufs sync.Pool // *bytes.Buffer
}

// withQuickResults installs resultProtocol over the client's protocol.
func withQuickResults(o *sts.Options) {
	o.Protocol = &resultProtocol{ClientProtocol: o.Protocol}
}

func (p *resultProtocol) DeserializeResponse(ctx context.Context, schema *smithy.OperationSchema, reg *smithy.TypeRegistry,
	resp *smithyhttp.Response, out smithy.Deserializable) error {
	var element string
	switch out.(type) {
	case *sts.AssumeRoleWithWebIdentityOutput:
		element = "AssumeRoleWithWebIdentityResult"
	case *sts.AssumeRoleWithSAMLOutput:
		element = "AssumeRoleWithSAMLResult"
	}
	if element == "" || resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return p.ClientProtocol.DeserializeResponse(ctx, schema, reg, resp, out)
	}
	buf, _ := p.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= maxPooledAnswer {
			buf.Reset()
			p.bufs.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxAnswer+1)); err != nil {
		return &smithy.DeserializationError{Err: err}
	}
	if buf.Len() > maxAnswer {
		return &smithy.DeserializationError{Err: fmt.Errorf("STS answered with more than %d bytes", maxAnswer)}
	}
	// One copy: every value read is a substring of doc.
	doc := buf.String()
	var r resultText
	if scanResult(doc, element, &r) && r.fill(out) {
		return nil
	}
	body := resp.Body
	defer func() { resp.Body = body }()
	resp.Body = io.NopCloser(strings.NewReader(doc))
	return p.ClientProtocol.DeserializeResponse(ctx, schema, reg, resp, out)
}

// An AssumeRoleWith* answer is a few kilobytes; a larger one is refused
// rather than read without end, and a buffer grown past maxPooledAnswer is
// not kept.
const (
	maxAnswer       = 1 << 20
	maxPooledAnswer = 64 << 10
)

// resultText holds the values of an AssumeRoleWith* result as written.
type resultText struct {
	saml bool

	assumedRoleUser, credentials bool // the elements are present
	arn, assumedRoleID           value

	accessKeyID, secretAccessKey, sessionToken, expiration value

	audience, sourceIdentity                                    value
	packedPolicySize, sessionTokenSize, sessionTokenUtilization value

	subjectFromWebIdentityToken, provider       value // web identity only
	subject, subjectType, issuer, nameQualifier value // SAML only
}

type value struct {
	s   string
	set bool
}

// slot is where the leaf element name inside parent goes ("" for the
// result itself), or nil when the result has no such element.
func (r *resultText) slot(parent, name string) *value {
	switch parent {
	case "AssumedRoleUser":
		switch name {
		case "Arn":
			return &r.arn
		case "AssumedRoleId":
			return &r.assumedRoleID
		}
	case "Credentials":
		switch name {
		case "AccessKeyId":
			return &r.accessKeyID
		case "SecretAccessKey":
			return &r.secretAccessKey
		case "SessionToken":
			return &r.sessionToken
		case "Expiration":
			return &r.expiration
		}
	case "":
		switch name {
		case "Audience":
			return &r.audience
		case "SourceIdentity":
			return &r.sourceIdentity
		case "PackedPolicySize":
			return &r.packedPolicySize
		case "SessionTokenSize":
			return &r.sessionTokenSize
		case "SessionTokenUtilization":
			return &r.sessionTokenUtilization
		}
		if r.saml {
			switch name {
			case "Subject":
				return &r.subject
			case "SubjectType":
				return &r.subjectType
			case "Issuer":
				return &r.issuer
			case "NameQualifier":
				return &r.nameQualifier
			}
			return nil
		}
		switch name {
		case "SubjectFromWebIdentityToken":
			return &r.subjectFromWebIdentityToken
		case "Provider":
			return &r.provider
		}
	}
	return nil
}

// scanResult reads the result element of doc into r. It accepts only the
// plain form STS writes: the element once, its children with no
// attributes or namespace prefixes, text of printable ASCII without
// entities, each value once, and no comment or CDATA anywhere.
func scanResult(doc, element string, r *resultText) bool {
	r.saml = element == "AssumeRoleWithSAMLResult"
	open := "<" + element + ">"
	start := strings.Index(doc, open)
	if start < 0 || strings.Contains(doc, "<!") || strings.Contains(doc[start+len(open):], open) {
		return false
	}
	s := scanner{doc: doc, i: start + len(open)}
	return s.children(element, "", r)
}

type scanner struct {
	doc string
	i   int
}

// children reads elements up to the closing tag of parent. slotParent
// names parent for resultText.slot ("" for the result element); only the
// result's AssumedRoleUser and Credentials hold elements of their own.
func (s *scanner) children(parent, slotParent string, r *resultText) bool {
	for {
		s.space()
		name, end, ok := s.tag()
		if !ok {
			return false
		}
		if end {
			return name == parent
		}
		text, ok := s.text()
		if !ok {
			return false
		}
		mark := s.i
		next, end, ok := s.tag()
		switch {
		case !ok:
			return false
		case end && next == name: // a leaf
			v := r.slot(slotParent, name)
			if v == nil || v.set {
				return false
			}
			*v = value{s: text, set: true}
		case !end && slotParent == "" && strings.TrimLeft(text, " \t\n") == "":
			var present *bool
			switch name {
			case "AssumedRoleUser":
				present = &r.assumedRoleUser
			case "Credentials":
				present = &r.credentials
			}
			if present == nil || *present {
				return false
			}
			*present = true
			s.i = mark
			if !s.children(name, name, r) {
				return false
			}
		default:
			return false
		}
	}
}

func (s *scanner) space() {
	for s.i < len(s.doc) && (s.doc[s.i] == ' ' || s.doc[s.i] == '\t' || s.doc[s.i] == '\n') {
		s.i++
	}
}

// tag reads "<Name>" or, with end set, "</Name>".
func (s *scanner) tag() (name string, end, ok bool) {
	if s.i >= len(s.doc) || s.doc[s.i] != '<' {
		return "", false, false
	}
	j := s.i + 1
	if j < len(s.doc) && s.doc[j] == '/' {
		end = true
		j++
	}
	k := j
	for k < len(s.doc) && ('A' <= s.doc[k] && s.doc[k] <= 'Z' || 'a' <= s.doc[k] && s.doc[k] <= 'z') {
		k++
	}
	if k == j || k >= len(s.doc) || s.doc[k] != '>' {
		return "", false, false
	}
	s.i = k + 1
	return s.doc[j:k], end, true
}

// text reads character data up to the next tag: printable ASCII, tabs and
// newlines, and no entity (which the SDK's decoder resolves).
func (s *scanner) text() (string, bool) {
	j := s.i
	for ; j < len(s.doc) && s.doc[j] != '<'; j++ {
		if c := s.doc[j]; c == '&' || c > '~' || c < ' ' && c != '\t' && c != '\n' {
			return "", false
		}
	}
	t := s.doc[s.i:j]
	s.i = j
	return t, true
}

// fill sets out from r, all or nothing: when a value does not parse, out
// is left untouched for the SDK's decoder.
func (r *resultText) fill(out smithy.Deserializable) bool {
	var expiration *time.Time
	if r.expiration.set {
		t, err := smithytime.ParseDateTime(r.expiration.s)
		if err != nil {
			return false
		}
		expiration = &t
	}
	packedPolicySize, ok1 := r.packedPolicySize.int32()
	sessionTokenSize, ok2 := r.sessionTokenSize.int32()
	sessionTokenUtilization, ok3 := r.sessionTokenUtilization.int32()
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	var user *types.AssumedRoleUser
	if r.assumedRoleUser {
		user = &types.AssumedRoleUser{Arn: r.arn.ptr(), AssumedRoleId: r.assumedRoleID.ptr()}
	}
	var creds *types.Credentials
	if r.credentials {
		creds = &types.Credentials{AccessKeyId: r.accessKeyID.ptr(), SecretAccessKey: r.secretAccessKey.ptr(),
			SessionToken: r.sessionToken.ptr(), Expiration: expiration}
	}
	switch o := out.(type) {
	case *sts.AssumeRoleWithWebIdentityOutput:
		o.AssumedRoleUser, o.Credentials = user, creds
		o.Audience, o.SourceIdentity = r.audience.ptr(), r.sourceIdentity.ptr()
		//lint:ignore SA1019 deprecated, but the SDK's decoder fills it too
		o.PackedPolicySize = packedPolicySize
		o.SessionTokenSize, o.SessionTokenUtilization = sessionTokenSize, sessionTokenUtilization
		o.SubjectFromWebIdentityToken, o.Provider = r.subjectFromWebIdentityToken.ptr(), r.provider.ptr()
	case *sts.AssumeRoleWithSAMLOutput:
		o.AssumedRoleUser, o.Credentials = user, creds
		o.Audience, o.SourceIdentity = r.audience.ptr(), r.sourceIdentity.ptr()
		//lint:ignore SA1019 deprecated, but the SDK's decoder fills it too
		o.PackedPolicySize = packedPolicySize
		o.SessionTokenSize, o.SessionTokenUtilization = sessionTokenSize, sessionTokenUtilization
		o.Subject, o.SubjectType, o.Issuer, o.NameQualifier = r.subject.ptr(), r.subjectType.ptr(), r.issuer.ptr(), r.nameQualifier.ptr()
	default:
		return false
	}
	return true
}

func (v value) ptr() *string {
	if !v.set {
		return nil
	}
	return aws.String(v.s)
}

func (v value) int32() (*int32, bool) {
	if !v.set {
		return nil, true
	}
	n, err := strconv.ParseInt(v.s, 10, 32)
	if err != nil {
		return nil, false
	}
	return aws.Int32(int32(n)), true
}
