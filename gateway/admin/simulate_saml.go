package admin

// Simulate with a SAML response: the pool's SAML provider checks
// the pasted response on its verify-only path (idp.AssertionVerifier):
// every check of the ACS but the replay cache, so simulating never spends
// a response and never records one.

import (
	"context"
	"net/http"
	"strings"

	"fedgate/exchange/rules"
	"fedgate/gateway/core"
	"fedgate/idp"
)

// simulateSAML verifies a pasted SAML response with the pool's (named, or
// only) SAML provider.
func (s *Admin) simulateSAML(ctx context.Context, pool *core.Pool, provider, resp string) (*idp.Identity, *core.Error) {
	prov, e := core.SAMLProviderOf(pool, provider)
	if e != nil {
		return nil, e
	}
	v, ok := prov.Provider.(idp.AssertionVerifier)
	if !ok {
		return nil, core.Errorf(http.StatusBadRequest, core.CodeUnknownProvider, "The provider %q cannot check a SAML response without using it up; paste its claims instead.", prov.Cfg.ID)
	}
	ident, err := v.VerifyResponse(ctx, strings.TrimSpace(resp))
	if err != nil {
		return nil, core.FromSAML(err)
	}
	return ident, nil
}

// narrowSimulated applies what a vend applies after the rules: in a
// saml-forward pool only the roles the response's Role attribute offers
// through the pool's IAM SAML provider remain (core.NarrowSAMLForward), and the
// trace says which grants that dropped.
func narrowSimulated(pool *core.Pool, claims map[string]any, d rules.Decision, steps []rules.Step) (rules.Decision, []rules.Step) {
	if !pool.Spec.NarrowToAssertion {
		return d, steps
	}
	narrowed := core.NarrowSAMLForward(&core.Principal{Pool: pool, Ident: &idp.Identity{Claims: claims}}, d)
	for _, g := range d.Grants {
		kept := false
		for _, k := range narrowed.Grants {
			kept = kept || k.Role == g.Role
		}
		detail := "the SAML Role attribute offers " + g.Role + " through " + pool.Cfg.SAMLProviderARN
		if !kept {
			detail = "dropped: the SAML Role attribute does not offer " + g.Role + " through " + pool.Cfg.SAMLProviderARN + " (saml-forward)"
		}
		steps = append(steps, rules.Step{Index: -1, Rule: "saml-forward", Matched: kept, Detail: detail})
	}
	return narrowed, steps
}

// samlProviderChoices lists the SAML providers that can check a pasted
// response, for the simulate page.
func samlProviderChoices(snap *core.Snapshot, selected string) []choice {
	var out []choice
	for _, id := range core.SortedProviderIDs(snap) {
		p := snap.Providers[id]
		if _, ok := p.Provider.(idp.AssertionVerifier); ok {
			out = append(out, choice{Value: id, Label: p.DisplayName() + " (" + id + ")", Selected: id == selected})
		}
	}
	return out
}
