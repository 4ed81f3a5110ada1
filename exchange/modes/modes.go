// Package modes is the registry of exchange modes. Each mode is a package
// of its own below this one exporting Spec; adding a mode is that package
// and one line in All.
package modes

import (
	"fedgate/exchange"
	"fedgate/exchange/modes/gatewaytoken"
	"fedgate/exchange/modes/samlbroker"
	"fedgate/exchange/modes/samlforward"
	"fedgate/exchange/modes/upstreamtoken"
)

// All lists the registered modes, in the order messages list them. The
// slice and its specs are fresh on every call: callers may keep or change
// them without touching anyone else's.
func All() []exchange.ModeSpec {
	return []exchange.ModeSpec{
		gatewaytoken.Spec(),
		upstreamtoken.Spec(),
		samlforward.Spec(),
		samlbroker.Spec(),
	}
}

// Lookup returns the spec of the named mode.
func Lookup(name string) (exchange.ModeSpec, bool) {
	for _, s := range All() {
		if s.Name == name {
			return s, true
		}
	}
	return exchange.ModeSpec{}, false
}

// Names lists the registered modes' names, in registry order.
func Names() []string {
	all := All()
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name
	}
	return names
}

// Signing returns the first registered mode that calls the STS action
// (exchange.TrustShape.STSAction) with a credential fedgate signs itself:
// the mode to suggest when one that forwards the upstream's cannot do
// what is asked, such as adding session tags.
func Signing(stsAction string) (exchange.ModeSpec, bool) {
	for _, s := range All() {
		if s.Forwards == exchange.ForwardNothing && s.Trust.STSAction() == stsAction {
			return s, true
		}
	}
	return exchange.ModeSpec{}, false
}
