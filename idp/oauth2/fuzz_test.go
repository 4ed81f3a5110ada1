package oauth2

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"

	"fedgate/idp"
)

// FuzzUserInfo feeds untrusted userinfo answers and configured claim paths
// to the parser. It must never panic; what it accepts has a subject within
// limits, which is also the sub claim, and claims that hold no json.Number
// (the rules and CEL see plain JSON values) and survive a JSON round trip,
// as they do in sealed sessions.
func FuzzUserInfo(f *testing.F) {
	seeds := []struct{ body, subject, claim string }{
		{`{"sub":"alice","groups":["eng"]}`, "sub", ""},
		{`{"id":583231,"login":"octocat"}`, "id", "login"},
		{`{"user":{"id":"u-1"},"https://x.example/org":{"team":"blue"}}`, "user.id", `"https://x.example/org".team`},
		{`{"id":123456789012345678901234567890,"n":1e400,"f":-0.5}`, "id", "n"},
		{`{"sub":1.5}`, "sub", ""},
		{`{"sub":"a"} trailing`, "sub", ""},
		{`null`, "sub", ""},
		{`[1,2]`, "sub", ""},
		{`{"sub":"\ud800"}`, `"sub"`, `a."b\"c"`},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.subject, s.claim)
	}
	f.Fuzz(func(t *testing.T, body []byte, subjectPath, claimPath string) {
		var mapped map[string]string
		if claimPath != "" {
			mapped = map[string]string{"c": claimPath}
		}
		m, err := newClaimMapping(subjectPath, mapped)
		if err != nil {
			return // Validate refuses such paths before a provider opens
		}
		subject, claims, err := m.identity(body)
		if err != nil {
			if !errors.Is(err, idp.ErrInvalidToken) && !errors.Is(err, idp.ErrMissingSubject) {
				t.Fatalf("error %v is neither ErrInvalidToken nor ErrMissingSubject", err)
			}
			return
		}
		if subject == "" || len(subject) > maxSubjectBytes || claims["sub"] != subject {
			t.Fatalf("subject %q, claims[sub] %v", subject, claims["sub"])
		}
		if mapped != nil && len(claims) > 2 {
			t.Fatalf("a mapping of one claim gave %d claims", len(claims))
		}
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case json.Number:
				t.Fatalf("a json.Number %s is left in the claims", x)
			case map[string]any:
				for _, e := range x {
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(map[string]any(claims))
		raw, err := json.Marshal(claims)
		if err != nil {
			t.Fatalf("claims do not encode: %v", err)
		}
		var back map[string]any
		if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, map[string]any(claims)) {
			if utf8.Valid(body) { // invalid UTF-8 is replaced on the way, as everywhere
				t.Fatalf("claims change in a JSON round trip: %v\n%s", err, raw)
			}
		}
	})
}
