package rules

import "strings"

// Session name limits from STS.
const (
	minSessionName = 2
	maxSessionName = 64
	// sessionNamePad prefixes names too short for STS.
	sessionNamePad = "fedgate-"
)

// SessionName turns an arbitrary string (an email, a display name, a
// subject) into a valid STS RoleSessionName, [\w+=,.@-]{2,64}: each
// disallowed character (any non-ASCII rune, or invalid byte) becomes '-',
// the result is cut to 64 bytes, and anything shorter than 2 is prefixed
// with "fedgate-". The same input always gives the same name.
func SessionName(raw string) string {
	var b strings.Builder
	b.Grow(min(len(raw), maxSessionName))
	for _, r := range raw {
		if b.Len() == maxSessionName {
			break
		}
		if sessionNameChar(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	name := b.String()
	if len(name) < minSessionName {
		return sessionNamePad + name
	}
	return name
}

func sessionNameChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("_+=,.@-", r)
}
