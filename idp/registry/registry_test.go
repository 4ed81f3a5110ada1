package registry

import (
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
