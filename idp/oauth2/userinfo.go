package oauth2

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"regexp"

	"fedgate/idp"
	"fedgate/idp/internal/httpcap"
)

// maxSubjectBytes is OIDC's limit on sub, applied to whatever the
// configured claim holds: identities are keyed by it.
const maxSubjectBytes = 255

// maxExactInteger is the largest integer a float64 holds exactly (2^53).
const maxExactInteger = 1 << 53

var integerPattern = regexp.MustCompile(`^-?[0-9]+$`)

// userInfo calls the userinfo endpoint with the access token and returns
// its answer, which must be JSON.
func (p *Provider) userInfo(ctx context.Context, accessToken string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.userInfoURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo request: %w", idp.ErrUpstream, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: %w", idp.ErrUpstream, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case errors.Is(err, httpcap.ErrBodyTooLarge):
		return nil, fmt.Errorf("%w: userinfo answer exceeds %d bytes", idp.ErrTooLarge, maxUpstreamBody)
	case err != nil:
		return nil, fmt.Errorf("%w: userinfo: %w", idp.ErrUpstream, err)
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w: userinfo: HTTP %d", idp.ErrUpstream, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		// The token just issued is refused: the sign-in cannot go on.
		return nil, fmt.Errorf("%w: userinfo: HTTP %d", idp.ErrExchangeFailed, resp.StatusCode)
	}
	if media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); media == "application/jwt" {
		return nil, fmt.Errorf("%w: userinfo answer is a JWT; only plain JSON is supported", idp.ErrInvalidToken)
	}
	return body, nil
}

// identity reads the subject and the claims from a userinfo answer: a
// JSON object holding the subject claim, a non-empty string or an integer
// (which becomes its decimal string).
func (m claimMapping) identity(body []byte) (string, map[string]any, error) {
	info, err := decodeObject(body)
	if err != nil {
		return "", nil, fmt.Errorf("%w: userinfo answer: %w", idp.ErrInvalidToken, err)
	}
	raw, ok := m.subject.Lookup(info)
	if !ok {
		return "", nil, fmt.Errorf("%w: userinfo answer has no %s", idp.ErrMissingSubject, m.subject)
	}
	subject, err := subjectString(raw)
	if err != nil {
		return "", nil, fmt.Errorf("%w: userinfo %s %w", idp.ErrMissingSubject, m.subject, err)
	}
	claims := map[string]any{}
	if len(m.claims) == 0 {
		for k, v := range info {
			claims[k] = normalize(v)
		}
	} else {
		for name, path := range m.claims {
			if v, ok := path.Lookup(info); ok {
				claims[name] = normalize(v)
			}
		}
	}
	// sub is the subject everywhere in fedgate, as for the other types.
	claims["sub"] = subject
	return subject, claims, nil
}

// decodeObject parses one JSON object, keeping numbers as written.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var info map[string]any
	if err := dec.Decode(&info); err != nil {
		return nil, errors.New("not a JSON object")
	}
	if info == nil {
		return nil, errors.New("null, not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return info, nil
}

// subjectString accepts a non-empty string or an integer.
func subjectString(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		if !integerPattern.MatchString(string(x)) {
			return "", fmt.Errorf("is %s, not an integer", x)
		}
		s = string(x)
	default:
		return "", fmt.Errorf("is a %T, not a string or an integer", v)
	}
	switch {
	case s == "":
		return "", errors.New("is empty")
	case len(s) > maxSubjectBytes:
		return "", fmt.Errorf("is longer than %d bytes", maxSubjectBytes)
	}
	return s, nil
}

// normalize gives numbers the float64 form of every other JSON claim,
// except integers a float64 would round, which become decimal strings.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if integerPattern.MatchString(string(x)) {
			if i, err := x.Int64(); err != nil || i > maxExactInteger || i < -maxExactInteger {
				return string(x)
			}
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return string(x)
		}
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}
