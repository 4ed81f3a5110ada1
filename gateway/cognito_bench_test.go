package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/cognito"
	"fedgate/gateway/config"
)

// BenchmarkCognitoGetCredentialsForIdentity is the whole request in
// process: JSON 1.1 decode, rate limits, identity lookup in SQLite, RS256
// verification of the upstream ID token, rules, minting the gateway token
// (ES256) and the STS stand-in. Compare with BenchmarkCognitoRulesOnly:
//
//	go test -run '^$' -bench Cognito -benchtime 2s ./gateway/
func BenchmarkCognitoGetCredentialsForIdentity(b *testing.B) {
	for _, tc := range []struct{ name, user string }{{"login", "alice"}, {"guest", ""}} {
		b.Run(tc.name, func(b *testing.B) {
			// The harness clock stands still, so the buckets must hold the run.
			h := newCogHarness(b, func(f *config.File) {
				f.Cognito = config.Cognito{RatePerAddress: 1e6, BurstPerAddress: 1e6, RatePerIdentity: 1e6, BurstPerIdentity: 1e6}
			})
			var logins map[string]string
			if tc.user != "" {
				logins = map[string]string{h.idp.loginKey(): h.idp.token(b, tc.user, cogWebClient, 24*time.Hour, nil)}
			}
			id := h.mustID(cogPoolID, logins)
			body := `{"IdentityId":"` + id + `"}`
			if logins != nil {
				body = `{"IdentityId":"` + id + `","Logins":{"` + h.idp.loginKey() + `":"` + logins[h.idp.loginKey()] + `"}}`
			}
			handler := h.srv.Handler()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
				req.Header.Set("Content-Type", cognito.ContentType)
				req.Header.Set("X-Amz-Target", cognito.TargetPrefix+"GetCredentialsForIdentity")
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("HTTP %d %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "vends/s")
		})
	}
}

// BenchmarkCognitoRulesOnly is the mapping alone for the same user: rules
// and principal tags.
func BenchmarkCognitoRulesOnly(b *testing.B) {
	h := newCogHarness(b)
	pool := h.srv.core.Snapshot().Pools[cogPoolID]
	claims := map[string]any{"sub": "alice", "iss": h.idp.URL()}
	for k, v := range cogUsers["alice"] {
		claims[k] = v
	}
	b.ReportAllocs()
	for b.Loop() {
		d := pool.Mapping.Evaluate(claims)
		if len(d.Grants) == 0 {
			b.Fatal("no grant")
		}
		if _, _, err := pool.Mapping.PrincipalTags(claims, d.Grants[0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
