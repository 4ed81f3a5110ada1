package registry

import (
	"reflect"
	"strings"
	"testing"

	"fedgate/idp"
	"fedgate/idp/settings"
)

// Every registered type has a name, a summary, settings described by
// their tags, and validation that refuses an empty entry.
func TestTypes(t *testing.T) {
	seen := map[string]bool{}
	for _, typ := range Types() {
		if typ.Name == "" || typ.Title == "" || typ.Summary == "" || typ.New == nil {
			t.Fatalf("incomplete type %+v", typ)
		}
		if seen[typ.Name] {
			t.Fatalf("type %q registered twice", typ.Name)
		}
		seen[typ.Name] = true
		cfg := typ.New()
		if len(settings.Fields(cfg)) == 0 {
			t.Errorf("%s: settings have no fields", typ.Name)
		}
		site := idp.Site{ID: "x", PublicURL: "https://fedgate.example.com"}
		cfg.ApplyDefaults(site)
		if ps := cfg.Validate(site); len(ps) == 0 {
			t.Errorf("%s: an empty entry validates", typ.Name)
		}
		if got, ok := Lookup(typ.Name); !ok || got.Name != typ.Name {
			t.Errorf("Lookup(%q) = %+v, %v", typ.Name, got, ok)
		}
	}
	if _, ok := Lookup("ldap"); ok {
		t.Error("Lookup found an unregistered type")
	}
	if len(Names()) != len(Types()) {
		t.Error("Names and Types disagree")
	}
}

// Every secret of every type is one settings.Redact and KeepSecrets can
// handle (a string, at top level or in a list of keyed structs), and every
// field named like a secret is tagged as one: a secret they cannot see
// would be shown by the admin API and history.
func TestSecretsAreHandled(t *testing.T) {
	looksSecret := func(key string) bool {
		return strings.Contains(key, "secret") || strings.Contains(key, "password") || strings.HasSuffix(key, "_key")
	}
	var check func(typ string, rt reflect.Type, inList bool)
	check = func(typ string, rt reflect.Type, inList bool) {
		for i := range rt.NumField() {
			sf := rt.Field(i)
			key, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			secret := sf.Tag.Get("secret") == "true"
			switch {
			case secret && sf.Type.Kind() != reflect.String:
				t.Errorf("%s: secret %s is a %s, not a string", typ, key, sf.Type)
			case !secret && looksSecret(key):
				t.Errorf("%s: %s looks like a secret but is not tagged secret:\"true\"", typ, key)
			case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct:
				if inList {
					t.Errorf("%s: %s nests a list in a list; secrets there would not be kept", typ, key)
				}
				check(typ, sf.Type.Elem(), true)
			case sf.Type.Kind() == reflect.Struct || sf.Type.Kind() == reflect.Map || sf.Type.Kind() == reflect.Pointer:
				if hasSecretTag(sf.Type) {
					t.Errorf("%s: %s holds a secret in a %s, which is not redacted", typ, key, sf.Type.Kind())
				}
			}
		}
	}
	for _, typ := range Types() {
		check(typ.Name, reflect.TypeOf(typ.New()).Elem(), false)
	}
}

func hasSecretTag(rt reflect.Type) bool {
	for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Map || rt.Kind() == reflect.Slice {
		rt = rt.Elem()
	}
	if rt.Kind() != reflect.Struct {
		return false
	}
	for i := range rt.NumField() {
		if rt.Field(i).Tag.Get("secret") == "true" || hasSecretTag(rt.Field(i).Type) {
			return true
		}
	}
	return false
}
