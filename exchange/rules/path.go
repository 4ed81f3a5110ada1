package rules

import (
	"errors"
	"strings"
)

// maxPathLen bounds claim paths; real ones are a few dozen bytes.
const maxPathLen = 1024

// Claim path parse errors.
var (
	ErrEmptyPath    = errors.New("claim path is empty")
	ErrPathTooLong  = errors.New("claim path is too long")
	ErrEmptySegment = errors.New("claim path has an empty segment")
	ErrBadQuote     = errors.New("claim path has an unterminated or misplaced quote")
)

// ClaimPath is a parsed claim path: the keys to descend through.
type ClaimPath struct {
	raw  string
	keys []string
}

// ParseClaimPath parses the dotted, optionally quoted path syntax described
// in the package documentation.
func ParseClaimPath(s string) (ClaimPath, error) {
	if s == "" {
		return ClaimPath{}, ErrEmptyPath
	}
	if len(s) > maxPathLen {
		return ClaimPath{}, ErrPathTooLong
	}
	var keys []string
	rest := s
	for {
		var key string
		var err error
		if strings.HasPrefix(rest, `"`) {
			key, rest, err = cutQuoted(rest[1:])
			if err != nil {
				return ClaimPath{}, err
			}
		} else {
			end := strings.IndexAny(rest, `."`)
			if end < 0 {
				end = len(rest)
			} else if rest[end] == '"' {
				return ClaimPath{}, ErrBadQuote
			}
			key, rest = rest[:end], rest[end:]
		}
		if key == "" {
			return ClaimPath{}, ErrEmptySegment
		}
		keys = append(keys, key)
		if rest == "" {
			return ClaimPath{raw: s, keys: keys}, nil
		}
		// Only a dot may follow a segment; a trailing dot leaves an empty one.
		if rest[0] != '.' {
			return ClaimPath{}, ErrBadQuote
		}
		rest = rest[1:]
		if rest == "" {
			return ClaimPath{}, ErrEmptySegment
		}
	}
}

// cutQuoted reads a quoted segment whose opening quote is already consumed
// and returns the unescaped key and what follows the closing quote.
func cutQuoted(s string) (key, rest string, err error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
				return "", "", ErrBadQuote
			}
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", ErrBadQuote
}

// String returns the path as written.
func (p ClaimPath) String() string { return p.raw }

// Keys returns a copy of the path's segments.
func (p ClaimPath) Keys() []string { return append([]string(nil), p.keys...) }

// Lookup resolves the path in claims. It reports false when a key is
// missing, an intermediate value is not a map, or the value is null.
func (p ClaimPath) Lookup(claims map[string]any) (any, bool) {
	if len(p.keys) == 0 {
		return nil, false
	}
	var cur any = claims
	for _, k := range p.keys {
		var ok bool
		switch m := cur.(type) {
		case map[string]any:
			cur, ok = m[k]
		case map[string]string:
			cur, ok = m[k]
		case map[string][]string:
			cur, ok = m[k]
		}
		if !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}
