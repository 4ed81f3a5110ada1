package issuer

import (
	"encoding/base64"
	"slices"
	"strconv"
	"unicode/utf8"
)

// claims is the JWT payload. Times are integer seconds, as STS requires.
//
// appendJSON writes it byte for byte as json.Marshal writes the struct below
// (FuzzMintClaimsEncoding holds it to that); it exists because json.Marshal
// spends a dozen allocations on every token.
//
//	struct {
//		Issuer         string     `json:"iss"`
//		Subject        string     `json:"sub"`
//		Audience       string     `json:"aud"`
//		AMR            []string   `json:"amr,omitempty"`
//		IssuedAt       int64      `json:"iat"`
//		NotBefore      int64      `json:"nbf"`
//		Expiry         int64      `json:"exp"`
//		ID             string     `json:"jti"` // base64url of the 16 bytes
//		Tags           *struct {              // nil when there are no tags
//			PrincipalTags     map[string][]string `json:"principal_tags"` // each value a list of one
//			TransitiveTagKeys []string            `json:"transitive_tag_keys,omitempty"`
//		} `json:"https://aws.amazon.com/tags,omitempty"`
//		SourceIdentity string            `json:"https://aws.amazon.com/source_identity,omitempty"`
//		PrincipalTags  map[string]string `json:"fedgate:principal_tags,omitempty"`
//	}
type claims struct {
	Issuer            string
	Subject           string
	Audience          string
	AMR               []string
	IssuedAt          int64
	NotBefore         int64
	Expiry            int64
	ID                [16]byte
	Tags              map[string]string
	TransitiveTagKeys []string
	SourceIdentity    string
	PrincipalTags     map[string]string
}

func (c *claims) appendJSON(b []byte) []byte {
	b = append(b, `{"iss":`...)
	b = appendJSONString(b, c.Issuer)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, c.Subject)
	b = append(b, `,"aud":`...)
	b = appendJSONString(b, c.Audience)
	if len(c.AMR) > 0 {
		b = append(b, `,"amr":`...)
		b = appendJSONStrings(b, c.AMR)
	}
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt, 10)
	b = append(b, `,"nbf":`...)
	b = strconv.AppendInt(b, c.NotBefore, 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.Expiry, 10)
	b = append(b, `,"jti":"`...)
	b = base64.RawURLEncoding.AppendEncode(b, c.ID[:])
	b = append(b, '"')
	if len(c.Tags) > 0 {
		b = append(b, `,"`+ClaimTags+`":{"principal_tags":{`...)
		b = appendSortedMap(b, c.Tags, true)
		b = append(b, '}')
		if len(c.TransitiveTagKeys) > 0 {
			b = append(b, `,"transitive_tag_keys":`...)
			b = appendJSONStrings(b, c.TransitiveTagKeys)
		}
		b = append(b, '}')
	}
	if c.SourceIdentity != "" {
		b = append(b, `,"`+ClaimSourceIdentity+`":`...)
		b = appendJSONString(b, c.SourceIdentity)
	}
	if len(c.PrincipalTags) > 0 {
		b = append(b, `,"`+ClaimPrincipalTags+`":{`...)
		b = appendSortedMap(b, c.PrincipalTags, false)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendSortedMap writes the members of m, without the braces, in the order
// encoding/json uses: keys sorted by their unescaped bytes. asList writes
// each value as a list of one, as the session tags claim wants.
func appendSortedMap(b []byte, m map[string]string, asList bool) []byte {
	var stack [maxTags]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for n, k := range keys {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		if asList {
			b = append(b, '[')
		}
		b = appendJSONString(b, m[k])
		if asList {
			b = append(b, ']')
		}
	}
	return b
}

func appendJSONStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for n, s := range list {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString quotes s as json.Marshal does: with HTML escaping (<, >
// and & as \u003c, \u003e, \u0026), U+2028 and U+2029 escaped, each byte of
// invalid UTF-8 replaced by \ufffd, and \b \f \n \r \t or \u00XX for the other
// control characters.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0 // s[start:i] is still to be copied
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
