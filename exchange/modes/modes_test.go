package modes_test

import (
	"reflect"
	"slices"
	"testing"

	"fedgate/exchange"
	"fedgate/exchange/modes"
	"fedgate/exchange/modes/internal/modetest"
)

func TestRegistry(t *testing.T) {
	sts := modetest.NewSTS()
	deps := exchange.ModeDeps{Minter: modetest.NewIssuer(t), WebIdentitySTS: sts, SAMLSTS: sts}
	seen := map[string]bool{}
	for _, s := range modes.All() {
		if err := s.Check(); err != nil {
			t.Error(err)
			continue
		}
		if seen[s.Name] {
			t.Errorf("mode %q registered twice", s.Name)
		}
		seen[s.Name] = true
		if got := s.New(deps).Name(); got != s.Name {
			t.Errorf("mode %q builds a mode named %q", s.Name, got)
		}
		if got, ok := modes.Lookup(s.Name); !ok || got.Name != s.Name {
			t.Errorf("Lookup(%q) = %q, %v", s.Name, got.Name, ok)
		}
	}
	if _, ok := modes.Lookup("nope"); ok {
		t.Error("Lookup found an unregistered mode")
	}
	if _, ok := modes.Lookup(""); ok {
		t.Error("Lookup found a mode without a name")
	}
	if want := []string{"gateway-token", "upstream-token", "saml-forward", "saml-broker"}; !slices.Equal(modes.Names(), want) {
		t.Errorf("Names() = %q, want %q", modes.Names(), want)
	}
}

// Callers get their own copy: changing it changes nothing for others.
func TestRegistryIsImmutable(t *testing.T) {
	all := modes.All()
	all[0].Name = "changed"
	for i := range all {
		if len(all[i].ProviderTypes) > 0 {
			all[i].ProviderTypes[0] = "changed"
		}
	}
	for _, s := range modes.All() {
		if s.Name == "changed" || slices.Contains(s.ProviderTypes, "changed") {
			t.Fatalf("a caller's change reached the registry: %+v", s)
		}
	}
}

// What each mode needs and allows, as the configuration checks, trust
// policies and role narrowing read it.
func TestSpecs(t *testing.T) {
	type want struct {
		forwards                                exchange.Forward
		providers                               []string
		tags, guests, samlProvider, own, narrow bool
		trust                                   exchange.TrustShape
	}
	tests := map[string]want{
		"gateway-token":  {exchange.ForwardNothing, nil, true, true, false, false, false, exchange.TrustGatewayOIDC},
		"upstream-token": {exchange.ForwardIDToken, []string{"oidc"}, false, false, false, false, false, exchange.TrustUpstreamOIDC},
		"saml-forward":   {exchange.ForwardSAMLResponse, []string{"saml"}, false, false, true, false, true, exchange.TrustSAMLProvider},
		"saml-broker":    {exchange.ForwardNothing, nil, true, false, true, true, false, exchange.TrustSAMLProvider},
	}
	for name, w := range tests {
		s, ok := modes.Lookup(name)
		if !ok {
			t.Errorf("%s is not registered", name)
			continue
		}
		got := want{s.Forwards, s.ProviderTypes, s.SessionTags, s.Guests, s.SAMLProvider, s.OwnSAMLProvider, s.NarrowToAssertion, s.Trust}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: spec %+v, want %+v", name, got, w)
		}
	}
}

func TestAcceptsProvider(t *testing.T) {
	anyType := exchange.ModeSpec{}
	oidc := exchange.ModeSpec{ProviderTypes: []string{"oidc"}}
	if !anyType.AcceptsProvider("saml") || !anyType.AcceptsProvider("static") || !oidc.AcceptsProvider("oidc") || oidc.AcceptsProvider("saml") {
		t.Error("AcceptsProvider: an empty list accepts any type, a list only its own")
	}
}

func TestCheckRefusesContradictions(t *testing.T) {
	ok, _ := modes.Lookup("saml-broker")
	tests := map[string]func(*exchange.ModeSpec){
		"no name":                           func(s *exchange.ModeSpec) { s.Name = "" },
		"no constructor":                    func(s *exchange.ModeSpec) { s.New = nil },
		"no trust shape":                    func(s *exchange.ModeSpec) { s.Trust = 0 },
		"SAML provider without SAML trust":  func(s *exchange.ModeSpec) { s.Trust = exchange.TrustGatewayOIDC },
		"own provider on a forwarding mode": func(s *exchange.ModeSpec) { s.Forwards = exchange.ForwardSAMLResponse; s.SessionTags = false },
		"narrowing without an assertion":    func(s *exchange.ModeSpec) { s.NarrowToAssertion = true },
		"tags on a forwarded credential":    func(s *exchange.ModeSpec) { s.OwnSAMLProvider = false; s.Forwards = exchange.ForwardSAMLResponse },
		"guests without fedgate's token":    func(s *exchange.ModeSpec) { s.Guests = true },
		"upstream trust without a token": func(s *exchange.ModeSpec) {
			s.Trust, s.SAMLProvider, s.OwnSAMLProvider, s.SessionTags = exchange.TrustUpstreamOIDC, false, false, false
		},
	}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range tests {
		s := ok
		mutate(&s)
		if s.Check() == nil {
			t.Errorf("%s: Check accepted %+v", name, s)
		}
	}
}

func TestSigning(t *testing.T) {
	for action, want := range map[string]string{
		"sts:AssumeRoleWithWebIdentity": "gateway-token",
		"sts:AssumeRoleWithSAML":        "saml-broker",
	} {
		if got, ok := modes.Signing(action); !ok || got.Name != want {
			t.Errorf("Signing(%s) = %q, %v; want %s", action, got.Name, ok, want)
		}
	}
	if _, ok := modes.Signing("sts:AssumeRole"); ok {
		t.Error("Signing found a mode for an action no mode calls")
	}
}
