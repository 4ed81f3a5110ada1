package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// AWS limits on what a rule may hand to STS.
const (
	MinDurationSeconds = 900
	MaxDurationSeconds = 43200
	MaxSessionPolicy   = 2048 // bytes of compact JSON
	MaxSessionTags     = 50
	MaxTagKeyLen       = 128
	MaxTagValueLen     = 256
)

var tagChars = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// Session tag error kinds, for errors.Is.
var (
	ErrTagKey         = errors.New("invalid session tag key")
	ErrTagValue       = errors.New("invalid session tag value")
	ErrTagMultiValued = errors.New("session tag claim has several values")
	ErrTagNotScalar   = errors.New("session tag claim is not a single value")
	ErrTooManyTags    = errors.New("too many session tags")
)

// TagError is a session tag that AWS would refuse. Its Error is for logs
// and admins; Public is safe to show the person signing in. Neither
// carries the claim value.
type TagError struct {
	Key    string // the tag key ("" when the problem is the count)
	Kind   error  // one of the ErrTag* sentinels or ErrTooManyTags
	Detail string // what exactly is wrong, e.g. "longer than 256 characters"
}

func (e *TagError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("rules: %v: %s", e.Kind, e.Detail)
	}
	return fmt.Sprintf("rules: session tag %q: %v: %s", e.Key, e.Kind, e.Detail)
}

// Unwrap exposes the kind.
func (e *TagError) Unwrap() error { return e.Kind }

// Public is the message for the end user.
func (e *TagError) Public() string {
	if e.Key == "" {
		return "your sign-in carries more session tags than AWS accepts"
	}
	return fmt.Sprintf("your sign-in cannot be given session tag %q", e.Key)
}

// ValidateTag checks a session tag against AWS's limits: key 1..128
// characters, value at most 256, both from [\p{L}\p{Z}\p{N}_.:/=+\-@],
// and a key that does not start with "aws:". It returns a *TagError.
func ValidateTag(key, value string) error {
	switch n := utf8.RuneCountInString(key); {
	case n == 0:
		return &TagError{Key: key, Kind: ErrTagKey, Detail: "empty"}
	case n > MaxTagKeyLen:
		return &TagError{Key: key, Kind: ErrTagKey, Detail: fmt.Sprintf("longer than %d characters", MaxTagKeyLen)}
	case !utf8.ValidString(key) || !tagChars.MatchString(key):
		return &TagError{Key: key, Kind: ErrTagKey, Detail: `characters outside letters, digits, spaces and _.:/=+-@`}
	case len(key) >= 4 && strings.EqualFold(key[:4], "aws:"):
		return &TagError{Key: key, Kind: ErrTagKey, Detail: `the "aws:" prefix is reserved`}
	}
	switch {
	case utf8.RuneCountInString(value) > MaxTagValueLen:
		return &TagError{Key: key, Kind: ErrTagValue, Detail: fmt.Sprintf("longer than %d characters", MaxTagValueLen)}
	case !utf8.ValidString(value) || !tagChars.MatchString(value):
		return &TagError{Key: key, Kind: ErrTagValue, Detail: `characters outside letters, digits, spaces and _.:/=+-@`}
	}
	return nil
}

// compactPolicy checks that an inline session policy is one JSON object
// within STS's size limit and returns it without insignificant spaces.
func compactPolicy(policy string) (string, error) {
	trimmed := strings.TrimSpace(policy)
	if !strings.HasPrefix(trimmed, "{") {
		return "", errors.New("must be a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(trimmed)); err != nil {
		return "", fmt.Errorf("not valid JSON: %v", err)
	}
	if buf.Len() > MaxSessionPolicy {
		return "", fmt.Errorf("%d bytes once compacted; STS accepts at most %d", buf.Len(), MaxSessionPolicy)
	}
	return buf.String(), nil
}
