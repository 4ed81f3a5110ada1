package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"fedgate/gateway/config"
	"fedgate/gateway/store/storetest"
	oidcidp "fedgate/idp/oidc"
)

// GetId with a known login and a new one, while the new login signs in
// on its own in another request: both answer 200, and afterwards the
// two logins are on one identity, the one the linking request answered,
// the first login's in the pool's provider order (the request that lost
// the race started over). Run with each provider first, and with
// GetCredentialsForIdentity on the known identity as the linking request.
func TestCognitoLinkRacesSignIn(t *testing.T) {
	const rounds = 25
	for _, tc := range []struct {
		partnerFirst, credentials bool
	}{{false, false}, {true, false}, {false, true}} {
		partnerFirst := tc.partnerFirst
		t.Run(fmt.Sprintf("partner-first=%v,GetCredentialsForIdentity=%v", partnerFirst, tc.credentials), func(t *testing.T) {
			var partner *cogIdP
			h := newCogHarness(t, func(f *config.File) {
				partner = newCogIdP(t, func() time.Time { return cogFixedNow })
				f.Providers = append(f.Providers, config.Provider{ID: "partner", Type: config.ProviderOIDC,
					Settings: &oidcidp.Settings{Issuer: partner.URL(), ClientID: cogWebClient}})
				f.Pools[0].Providers = []string{"corp", "partner"}
				if partnerFirst {
					f.Pools[0].Providers = []string{"partner", "corp"}
				}
			})
			getID := func(logins map[string]string) (string, cogResult) {
				body, _ := json.Marshal(map[string]any{"IdentityPoolId": cogPoolID, "Logins": logins})
				r := h.call("GetId", string(body))
				var out struct{ IdentityId string }
				_ = json.Unmarshal(r.body, &out)
				return out.IdentityId, r
			}
			before := h.identities()
			for round := range rounds {
				user := fmt.Sprintf("racer-%d", round)
				readers := map[string]any{"groups": []any{"s3-readers"}} // so the pool's rules grant a role
				corp := map[string]string{h.idp.loginKey(): h.idp.token(t, user, cogWebClient, 5*time.Minute, readers)}
				alone := map[string]string{partner.loginKey(): partner.token(t, user, cogWebClient, 5*time.Minute, readers)}
				both := map[string]string{h.idp.loginKey(): corp[h.idp.loginKey()], partner.loginKey(): alone[partner.loginKey()]}
				first := h.mustID(cogPoolID, corp)

				type answer struct {
					id string
					r  cogResult
				}
				answers := storetest.Parallel(2, func(i int) answer {
					if i == 1 {
						id, r := getID(alone)
						return answer{id, r}
					}
					if tc.credentials {
						// The app's identity, with its known login and the new one.
						r, out := h.creds(first, both, "")
						return answer{out.IdentityId, r}
					}
					id, r := getID(both)
					return answer{id, r}
				})
				for i, a := range answers {
					if a.r.status != http.StatusOK {
						t.Fatalf("round %d, request %d: HTTP %d %s", round, i, a.r.status, a.r.body)
					}
				}
				linked := answers[0].id
				if partnerFirst && linked != answers[1].id && linked != first {
					t.Errorf("round %d: linked to %s, neither the sign-in's %s nor the first login's %s", round, linked, answers[1].id, first)
				}
				if !partnerFirst && linked != first {
					t.Errorf("round %d: linked to %s, want the first login's %s", round, linked, first)
				}
				for name, logins := range map[string]map[string]string{"corp": corp, "partner": alone} {
					if got, r := getID(logins); got != linked {
						t.Errorf("round %d: the %s login alone finds %s (HTTP %d %s), want %s", round, name, got, r.status, r.body, linked)
					}
				}
			}
			if got := h.identities() - before; got != rounds {
				t.Errorf("%d identities made for %d users, want one each", got, rounds)
			}
		})
	}
}
