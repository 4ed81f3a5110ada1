// Package jwtclaims decodes a signature-verified JWT payload once, into
// the claims the rules see and the registered claims verification checks,
// so that two readers of one token can never disagree: duplicate names and
// letter-case twins of registered claims are refused. Both the upstream
// OIDC verifier (idp/oidc) and the verifier of fedgate's own tokens
// (exchange/issuer) use it.
package jwtclaims

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Registered are the registered claims of a payload, read from the same
// decoding that yields its claims.
type Registered struct {
	Issuer, Subject, Nonce, AuthorizedParty, AccessTokenHash string
	Audience                                                 []string
	Expiry, NotBefore, IssuedAt                              time.Time
	HasAuthorizedParty                                       bool
}

// registeredNames are the claims verifiers read; a payload holding a
// letter-case variant of one is refused.
var registeredNames = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "nonce", "azp", "at_hash"}

// Decode decodes a payload into its claims and registered claims.
func Decode(payload []byte) (map[string]any, *Registered, error) {
	claims, err := DecodeObject(payload)
	if err != nil {
		return nil, nil, fmt.Errorf("claims: %w", err)
	}
	reg, err := RegisteredOf(claims)
	if err != nil {
		return nil, nil, err
	}
	return claims, reg, nil
}

// DecodeObject reads one JSON object, refusing duplicate names and
// case-folded twins of registered claims.
func DecodeObject(payload []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("the payload is not a JSON object")
	}
	claims := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		if _, dup := claims[name]; dup {
			return nil, fmt.Errorf("claim %q appears twice", truncate(name))
		}
		if reg := registeredTwin(name); reg != "" {
			return nil, fmt.Errorf("claim %q is a letter-case variant of the registered claim %q", truncate(name), reg)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		claims[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the claims object")
	}
	return claims, nil
}

// registeredTwin is the registered claim (one the verification reads) that
// name folds to without being it, or "". A payload that carries such a
// twin ("Sub", "EXP", "ſub") is refused: encoding/json matches struct
// fields without regard to case and keeps the last match, so two readers
// of one token (a struct and a map) could see two subjects or expiries.
func registeredTwin(name string) string {
	for _, reg := range registeredNames {
		if name != reg && strings.EqualFold(name, reg) {
			return reg
		}
	}
	return ""
}

// RegisteredOf reads the registered claims of decoded claims, checking
// their types.
func RegisteredOf(claims map[string]any) (*Registered, error) {
	var r Registered
	var err error
	str := func(name string, dst *string) {
		if err != nil {
			return
		}
		v, present := claims[name]
		if !present {
			return
		}
		s, ok := v.(string)
		if !ok {
			err = fmt.Errorf("%s is not a string", name)
			return
		}
		*dst = s
	}
	str("iss", &r.Issuer)
	str("sub", &r.Subject)
	str("nonce", &r.Nonce)
	str("at_hash", &r.AccessTokenHash)
	str("azp", &r.AuthorizedParty)
	if err != nil {
		return nil, err
	}
	_, r.HasAuthorizedParty = claims["azp"]
	if r.Audience, err = audienceOf(claims["aud"]); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"exp", &r.Expiry}, {"nbf", &r.NotBefore}, {"iat", &r.IssuedAt}} {
		if *t.dst, err = timeOf(t.name, claims[t.name]); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// audienceOf reads aud, a string or an array of strings.
func audienceOf(v any) ([]string, error) {
	switch aud := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{aud}, nil
	case []any:
		out := make([]string, 0, len(aud))
		for _, a := range aud {
			s, ok := a.(string)
			if !ok {
				return nil, errors.New("aud holds a value that is not a string")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, errors.New("aud is neither a string nor an array of strings")
}

// timeOf reads a NumericDate: seconds since the epoch, fractions allowed.
func timeOf(name string, v any) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return time.Time{}, fmt.Errorf("%s is not a NumericDate", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// truncate shortens an untrusted name for an error message.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
