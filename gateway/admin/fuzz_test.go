package admin

import (
	"strings"
	"testing"
	"unicode/utf8"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	oidcidp "fedgate/idp/oidc"
)

// Pasted claims come from an admin's clipboard: any text must give one
// JSON object or a clean refusal, never a panic.
func FuzzAdminParseClaims(f *testing.F) {
	for _, s := range []string{`{"sub":"a","groups":["x"]}`, `{}`, `[]`, `null`, `{"a":1}{"b":2}`, `{"a":{"b":[1,2,{"c":null}]}}`, ``, `"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		claims, e := parseClaims(raw)
		if (claims == nil) == (e == nil) {
			t.Fatalf("parseClaims(%q) = %v, %v: want exactly one", raw, claims, e)
		}
		if e != nil && strings.Contains(e.Message, raw) && len(raw) > 8 {
			t.Fatalf("refusal echoes the input")
		}
	})
}

// Tag and principal-tag text areas: every accepted line is key = value.
func FuzzAdminParsePairs(f *testing.F) {
	for _, s := range []string{"a = b\nc=d", "=x", "a", "a = b = c", "\n\n", " k = v \r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		m, err := parsePairs(text)
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || strings.TrimSpace(k) != k || strings.TrimSpace(v) != v || strings.Contains(k, "\n") {
				t.Fatalf("parsePairs(%q) gave key %q value %q", text, k, v)
			}
		}
		// What the form shows again parses to the same map.
		back, err := parsePairs(pairsText(m))
		if err != nil || len(back) != len(m) {
			t.Fatalf("round trip of %q: %v, %v", text, back, err)
		}
	})
}

// Diffs of arbitrary documents never show a secret and are empty exactly
// when the documents flatten alike.
func FuzzAdminDiff(f *testing.F) {
	f.Add("corp", "s1", "s2", "team", "arn:aws:iam::123456789012:role/a")
	f.Fuzz(func(t *testing.T, id, secretA, secretB, pool, role string) {
		if !utf8.ValidString(secretA) || !utf8.ValidString(secretB) || len(secretA) < 4 || len(secretB) < 4 {
			return
		}
		a := config.Mappings{Providers: []config.Provider{{ID: id, Type: config.ProviderOIDC, Settings: &oidcidp.Settings{ClientSecret: secretA}}}, Pools: []config.Pool{{Name: pool, AuthenticatedRole: role}}}
		b := core.CloneMappings(a)
		b.Providers[0].Settings.(*oidcidp.Settings).ClientSecret = secretB
		for _, d := range core.DiffMappings(a, b) {
			if strings.Contains(d.Old+d.New, secretA) || strings.Contains(d.Old+d.New, secretB) {
				if !strings.Contains("(secret)", secretA) && !strings.Contains("(secret)", secretB) {
					t.Fatalf("diff shows a secret: %+v", d)
				}
			}
		}
		if len(core.DiffMappings(a, core.CloneMappings(a))) != 0 {
			t.Fatal("a document differs from its copy")
		}
	})
}
