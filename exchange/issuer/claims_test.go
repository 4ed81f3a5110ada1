package issuer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// wireClaims is the payload as json.Marshal writes it: the definition that
// claims.appendJSON must reproduce byte for byte.
type wireClaims struct {
	Issuer         string            `json:"iss"`
	Subject        string            `json:"sub"`
	Audience       string            `json:"aud"`
	AMR            []string          `json:"amr,omitempty"`
	IssuedAt       int64             `json:"iat"`
	NotBefore      int64             `json:"nbf"`
	Expiry         int64             `json:"exp"`
	ID             string            `json:"jti"`
	Tags           *wireTags         `json:"https://aws.amazon.com/tags,omitempty"`
	SourceIdentity string            `json:"https://aws.amazon.com/source_identity,omitempty"`
	PrincipalTags  map[string]string `json:"fedgate:principal_tags,omitempty"`
}

type wireTags struct {
	PrincipalTags     map[string][]string `json:"principal_tags"`
	TransitiveTagKeys []string            `json:"transitive_tag_keys,omitempty"`
}

func wireFor(c claims) wireClaims {
	w := wireClaims{
		Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience, AMR: c.AMR,
		IssuedAt: c.IssuedAt, NotBefore: c.NotBefore, Expiry: c.Expiry,
		ID:             base64.RawURLEncoding.EncodeToString(c.ID[:]),
		SourceIdentity: c.SourceIdentity,
		PrincipalTags:  c.PrincipalTags,
	}
	if len(c.Tags) > 0 {
		w.Tags = &wireTags{PrincipalTags: map[string][]string{}, TransitiveTagKeys: c.TransitiveTagKeys}
		for k, v := range c.Tags {
			w.Tags.PrincipalTags[k] = []string{v}
		}
	}
	return w
}

// FuzzMintClaimsEncoding holds the hand-written payload encoder to
// json.Marshal's output for every input, and checks that encoding/json
// decodes it back to the same claims when the strings are valid UTF-8.
// Lists and tags are the comma-separated parts of their arguments.
func FuzzMintClaimsEncoding(f *testing.F) {
	seeds := []struct {
		iss, sub, aud, amr, tagKeys, tagValues, transitive, source string
		iat, nbf, exp                                              int64
		jti                                                        []byte
	}{
		{"https://fedgate.example.com", "eu-west-1:1111", "eu-west-1:pool", "authenticated,okta", "team,env", "blue,prod", "team", "alice@example.com", 1740830400, 1740830400, 1740830700, []byte("0123456789abcdef")},
		{"https://fedgate.example.com/pools/p", "s", "a", "", "", "", "", "", 0, 0, 0, nil},
		{"<script>&amp;</script>", `"quoted" \back\slash/`, "\b\f\n\r\t\x00\x01\x1f\x7f", "<,>,&", "a<b,a>b,a&b", "\u2028,\u2029,x", "a<b", "é日本🙂\u2028", -1, math.MinInt64, math.MaxInt64, bytes.Repeat([]byte{0xff}, 16)},
		{"\xff\xfe", "a\xc3", "\xe2\x80", "\xed\xa0\x80", "\xff,\xfe,ok", "\x80,v,w", "", "\xf4\x90\x80\x80", 1, 2, 3, []byte{0}},
		{"", "", "", ",", ",,", "", "", "ab", 1e9, 1e9, 1e9 + 600, []byte("short")},
		{"x", "y", "z", "", "b,a,B,A,ab,a b,_", "1,2,3,4,5,6,7", "B,_", "\ufffd\ufeff", 42, 42, 43, nil},
	}
	for _, s := range seeds {
		f.Add(s.iss, s.sub, s.aud, s.amr, s.tagKeys, s.tagValues, s.transitive, s.source, s.iat, s.nbf, s.exp, s.jti)
	}
	f.Fuzz(func(t *testing.T, iss, sub, aud, amr, tagKeys, tagValues, transitive, source string, iat, nbf, exp int64, jti []byte) {
		c := claims{Issuer: iss, Subject: sub, Audience: aud, IssuedAt: iat, NotBefore: nbf, Expiry: exp, SourceIdentity: source}
		copy(c.ID[:], jti)
		if amr != "" {
			c.AMR = strings.Split(amr, ",")
		}
		if tagKeys != "" {
			values := strings.Split(tagValues, ",")
			c.Tags = map[string]string{}
			for n, k := range strings.Split(tagKeys, ",") {
				c.Tags[k] = values[n%len(values)]
			}
		}
		if tagValues != "" {
			// A developer login's attributes: the same strings, the other way round.
			keys := strings.Split(tagKeys, ",")
			c.PrincipalTags = map[string]string{}
			for n, k := range strings.Split(tagValues, ",") {
				c.PrincipalTags[k] = keys[n%len(keys)]
			}
		}
		if transitive != "" {
			c.TransitiveTagKeys = strings.Split(transitive, ",")
		}

		want, err := json.Marshal(wireFor(c))
		if err != nil {
			t.Fatal(err)
		}
		got := c.appendJSON(nil)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendJSON differs from json.Marshal:\n got %s\nwant %s", got, want)
		}

		for _, s := range append([]string{iss, sub, aud, amr, tagKeys, tagValues, transitive, source}, c.AMR...) {
			if !utf8.ValidString(s) {
				return // json.Marshal replaces invalid bytes, so they cannot round-trip
			}
		}
		var back wireClaims
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("output does not decode: %v\n%s", err, got)
		}
		if w := wireFor(c); !reflect.DeepEqual(back, w) {
			t.Fatalf("decoded claims differ:\n got %+v\nwant %+v", back, w)
		}
	})
}

func TestAppendJSONStringEscapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`a"b\c/d`, `"a\"b\\c/d"`},
		{"<a>&", `"\u003ca\u003e\u0026"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x1f\x7f", `"\u0000\u001f` + "\x7f" + `"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"bad\xffutf8\xc3", `"bad\ufffdutf8\ufffd"`},
		{"é日本🙂", `"é日本🙂"`},
	}
	for _, tt := range tests {
		if got := string(appendJSONString(nil, tt.in)); got != tt.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if want, _ := json.Marshal(tt.in); string(want) != tt.want {
			t.Errorf("table entry %q disagrees with json.Marshal: %s", tt.in, want)
		}
	}
}

func TestAppendJSONSortsTagKeys(t *testing.T) {
	c := claims{Tags: map[string]string{}}
	for _, k := range []string{"b", "a", "B", "_", "a b", "é", "<"} {
		c.Tags[k] = k
	}
	got := c.appendJSON(nil)
	// Sorted by the raw bytes ('<' is 0x3c), not by their escaped form.
	want := `"principal_tags":{"\u003c":["\u003c"],"B":["B"],"_":["_"],"a":["a"],"a b":["a b"],"b":["b"],"é":["é"]}`
	if !bytes.Contains(got, []byte(want)) {
		t.Fatalf("payload %s\nlacks %s", got, want)
	}
}
