package rules

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Glob syntax errors.
var (
	errGlobEscape = errors.New("trailing backslash")
	errGlobClass  = errors.New("unterminated or empty [...] class")
	errGlobRange  = errors.New("bad range in [...] class")
)

// globToRegexp translates a whole-string glob into an anchored RE2
// expression, so matching is linear-time whatever the pattern.
func globToRegexp(glob string) (string, error) {
	var b strings.Builder
	b.WriteString("^(?s:")
	for i := 0; i < len(glob); {
		switch glob[i] {
		case '*':
			b.WriteString(".*")
			i++
		case '?':
			b.WriteByte('.')
			i++
		case '\\':
			if i+1 >= len(glob) {
				return "", errGlobEscape
			}
			r, size := utf8.DecodeRuneInString(glob[i+1:])
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += 1 + size
		case '[':
			class, n, err := globClass(glob[i+1:])
			if err != nil {
				return "", err
			}
			b.WriteString(class)
			i += 1 + n
		default:
			r, size := utf8.DecodeRuneInString(glob[i:])
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += size
		}
	}
	b.WriteString(")$")
	return b.String(), nil
}

// globClass translates the body of a [...] class (after the '[') and
// returns the regexp class and how many bytes of s it consumed.
func globClass(s string) (string, int, error) {
	var b strings.Builder
	b.WriteByte('[')
	i := 0
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		b.WriteByte('^')
		i++
	}
	items := 0
	for i < len(s) {
		if s[i] == ']' {
			if items == 0 {
				return "", 0, errGlobClass
			}
			b.WriteByte(']')
			return b.String(), i + 1, nil
		}
		lo, n, err := classRune(s[i:])
		if err != nil {
			return "", 0, err
		}
		i += n
		writeClassRune(&b, lo)
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			hi, n, err := classRune(s[i+1:])
			if err != nil {
				return "", 0, err
			}
			if hi < lo {
				return "", 0, errGlobRange
			}
			b.WriteByte('-')
			writeClassRune(&b, hi)
			i += 1 + n
		}
		items++
	}
	return "", 0, errGlobClass
}

// classRune reads one possibly escaped rune inside a class.
func classRune(s string) (rune, int, error) {
	if s[0] == '\\' {
		if len(s) < 2 {
			return 0, 0, errGlobEscape
		}
		r, size := utf8.DecodeRuneInString(s[1:])
		return r, 1 + size, nil
	}
	r, size := utf8.DecodeRuneInString(s)
	return r, size, nil
}

// writeClassRune writes r so RE2 reads it literally inside a class.
func writeClassRune(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf && strings.ContainsRune(`\]-^[`, r) {
		b.WriteByte('\\')
	}
	b.WriteRune(r)
}
