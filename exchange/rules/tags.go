package rules

import (
	"fmt"
	"strings"
)

// PrincipalTags builds the session tags for a grant: one tag per
// principal_tags entry whose claim is present, plus the grant's own Tags
// (which win over a principal tag of the same key). It enforces AWS's limits
// again at run time, since claim values are only known now, and returns a
// *TagError when a value is too long or has bad characters, a list claim
// has more than one element, a claim is a map, or there are more than 50
// tags. A missing claim (or an empty list) just omits its tag. transitive
// lists the configured transitive keys that are among the tags.
func (m *Mapping) PrincipalTags(claims map[string]any, g Grant) (tags map[string]string, transitive []string, err error) {
	tags = make(map[string]string, len(m.principalTags)+len(g.Tags))
	for _, src := range m.principalTags {
		v, ok := src.path.Lookup(claims)
		if !ok || !present(v) {
			continue
		}
		value, err := singleValue(src.key, v)
		if err != nil {
			return nil, nil, err
		}
		tags[src.key] = value
	}
	for k, v := range g.Tags {
		tags[k] = v
	}
	if len(tags) > MaxSessionTags {
		return nil, nil, &TagError{Kind: ErrTooManyTags, Detail: fmt.Sprintf("%d tags; AWS accepts at most %d", len(tags), MaxSessionTags)}
	}
	lower := make(map[string]string, len(tags))
	for k, v := range tags {
		if err := ValidateTag(k, v); err != nil {
			return nil, nil, err
		}
		// STS refuses keys that differ only in case.
		lk := strings.ToLower(k)
		if other, dup := lower[lk]; dup {
			return nil, nil, &TagError{Key: k, Kind: ErrTagKey, Detail: fmt.Sprintf("differs from %q only in case", other)}
		}
		lower[lk] = k
	}
	for _, k := range m.transitive {
		if _, ok := tags[k]; ok {
			transitive = append(transitive, k)
		}
	}
	return tags, transitive, nil
}

// singleValue turns a present claim into one tag value: AWS session tags
// are single-valued, so a list must hold exactly one scalar.
func singleValue(key string, v any) (string, error) {
	if n, isList := listLen(v); isList {
		if n > 1 {
			return "", &TagError{Key: key, Kind: ErrTagMultiValued, Detail: fmt.Sprintf("the claim is a list of %d values", n)}
		}
		s, ok := listElem(v, 0)
		if !ok {
			return "", &TagError{Key: key, Kind: ErrTagNotScalar, Detail: "the claim's only element is not a scalar"}
		}
		return s, nil
	}
	s, ok := scalarString(v)
	if !ok {
		return "", &TagError{Key: key, Kind: ErrTagNotScalar, Detail: fmt.Sprintf("the claim is a %T", v)}
	}
	return s, nil
}
