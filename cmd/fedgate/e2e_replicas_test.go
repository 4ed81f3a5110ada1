package main

// Two replicas of the real binary behind one public URL, sharing one
// PostgreSQL schema: what a load balancer in front of several gateways
// needs from the store. Real oidc-provider, moto with IAM enforcement, real
// PostgreSQL; each request goes to the replica the test names.

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/testkit"
)

// withPostgres runs fedgate (serve and the subcommands) on the PostgreSQL
// schema dsn names, through FEDGATE_STORE_DSN.
func withPostgres(dsn string) envOption {
	return func(e *env) string {
		e.extraEnv = append(e.extraEnv, "FEDGATE_STORE_DSN="+dsn)
		return ""
	}
}

// replica starts another `fedgate serve` with e's configuration on its own
// port; it shares e's public URL, store and peers.
func (e *env) replica() *env {
	e.t.Helper()
	r := *e
	r.port = testkit.FreePort(e.t)
	r.url = fmt.Sprintf("http://127.0.0.1:%d", r.port)
	r.configPath = filepath.Join(e.dir, fmt.Sprintf("fedgate-replica-%d.yaml", r.port))
	r.writeConfig()
	r.start()
	return &r
}

// on rewrites a URL of the public address to replica e, as a load balancer
// would route that request there.
func (e *env) on(u *url.URL) string {
	return e.url + u.RequestURI()
}

func TestEndToEndReplicasOnPostgres(t *testing.T) {
	dsn := peers.PostgresSchema(t)
	a := startEnv(t, withPostgres(dsn), withAdmin)
	b := a.replica()
	vends := func(r *env) int { return strings.Count(r.logs.String(), `"msg":"credentials vended"`) }

	t.Run("a sign-in started on A completes on B", func(t *testing.T) {
		c := browser(t)
		cb := a.signIn(c, "team", "alice") // /login on A; the IdP sends the browser back to the public URL
		beforeA, beforeB := vends(a), vends(b)
		status, _, page := get(t, c, b.on(cb))
		if status != http.StatusOK {
			t.Fatalf("callback on B: HTTP %d\n%s", status, page)
		}
		a.assertLeastPrivilege(credsFromPage(t, pickOnlyRole(t, c, b.url, page)))
		if vends(b) != beforeB+1 || vends(a) != beforeA {
			t.Errorf("vends: A %d→%d, B %d→%d; want the one vend on B", beforeA, vends(a), beforeB, vends(b))
		}
		// The flow's state was taken once, from the shared store: the same
		// callback replayed on A finds nothing.
		if status, _, _ := get(t, c, a.on(cb)); status != http.StatusBadRequest {
			t.Errorf("callback replayed on A: HTTP %d, want 400", status)
		}
	})

	t.Run("the role picker shown by A is answered by B", func(t *testing.T) {
		c := browser(t)
		status, _, page := get(t, c, a.on(a.signIn(c, "picker", "carol")))
		if status != http.StatusOK || !strings.Contains(page, "Choose a role") {
			t.Fatalf("picker on A: HTTP %d\n%s", status, page)
		}
		csrf := regexpFind(t, page, `name="csrf" value="([^"]+)"`)
		status, page = postForm(t, c, b.url+"/roles", url.Values{"csrf": {csrf}, "role": {a.readerRole}})
		if status != http.StatusOK {
			t.Fatalf("picking on B: HTTP %d\n%s", status, page)
		}
		a.assertLeastPrivilege(credsFromPage(t, page))
	})

	t.Run("keys rotate is picked up by both replicas", func(t *testing.T) {
		signingKid := func(r *env) string {
			t.Helper()
			if res := r.api(r.token("alice", e2eClientID, 5*time.Minute), map[string]any{"pool": "team"}); res.status != http.StatusOK {
				t.Fatalf("vend on %s: %d %v", r.url, res.status, res.body)
			}
			_, tok := r.tap.Snapshot()
			return kid(t, tok)
		}
		old := signingKid(a)
		if k := signingKid(b); k != old {
			t.Fatalf("before rotation A signs with %s and B with %s; want one shared key", old, k)
		}
		out, err := a.fedgate("keys", "rotate")
		if err != nil {
			t.Fatalf("fedgate keys rotate: %v\n%s", err, out)
		}
		rotated := time.Now()
		for _, r := range []*env{a, b} {
			var now string
			if !testkit.Eventually(10*time.Second-time.Since(rotated), 200*time.Millisecond, func() bool { now = signingKid(r); return now != old }) {
				t.Fatalf("%s still signs with the old key 10s after the rotation", r.url)
			}
			// A key signs only once every replica publishes it, so STS (which
			// may fetch the JWKS from any replica) always finds it.
			for _, other := range []*env{a, b} {
				if _, _, jwks := get(t, http.DefaultClient, other.url+"/.well-known/jwks.json"); !strings.Contains(jwks, `"`+now+`"`) {
					t.Errorf("%s signs with %s while %s does not publish it yet", r.url, now, other.url)
				}
			}
			t.Logf("%s signs with the new key %s %.1fs after the rotation (reload_interval 1s)", r.url, now, time.Since(rotated).Seconds())
			_, tok := r.tap.Snapshot()
			peers.VerifyWithJose(t, a.url, poolGatewayID, tok) // through the public URL's discovery and JWKS
			_, _, jwks := get(t, http.DefaultClient, r.url+"/.well-known/jwks.json")
			if !strings.Contains(jwks, `"`+now+`"`) || !strings.Contains(jwks, `"`+old+`"`) {
				t.Errorf("JWKS on %s lacks the new or the old key:\n%s", r.url, jwks)
			}
		}
	})

	t.Run("an admin API change on A takes effect on B", func(t *testing.T) {
		bob := func() apiResult {
			return b.api(b.token("bob", e2eClientID, 5*time.Minute), map[string]any{"pool": "team"})
		}
		if r := bob(); r.status != http.StatusForbidden {
			t.Fatalf("bob on B before the change: %d %v, want 403", r.status, r.body)
		}
		rule := `{"name":"sales readers","match":[{"claim":"groups","op":"equals","value":"sales"}],"role":"` + a.readerRole + `"}`
		if r := a.adminAPI(nil, http.MethodPost, "/admin/api/v1/pools/team/rules", rule); r.status != http.StatusCreated {
			t.Fatalf("adding the rule on A: %d %s", r.status, r.body)
		}
		changed := time.Now()
		var r apiResult
		if !testkit.Eventually(10*time.Second, 100*time.Millisecond, func() bool { r = bob(); return r.status == http.StatusOK }) {
			t.Fatalf("bob on B 10s after the change on A: %d %v", r.status, r.body)
		}
		took := time.Since(changed)
		t.Logf("B applied A's change after %.1fs (reload_interval 1s)", took.Seconds())
		if took > 3*time.Second {
			t.Errorf("B took %s to apply the change, want within about reload_interval (1s)", took)
		}
		a.assertLeastPrivilege(r.creds(t))
		// B's audit log holds A's change: one log, in the shared store.
		if audit := b.audit(t, "kind=admin_change"); len(audit) != 1 || audit[0].Actor != "api-token" || audit[0].Version == 0 {
			t.Errorf("admin changes in B's audit log: %+v; want the one made on A", audit)
		}
	})

	t.Run("both replicas ran on PostgreSQL", func(t *testing.T) {
		for _, r := range []*env{a, b} {
			if !strings.Contains(r.logs.String(), `"store":"postgres"`) {
				t.Errorf("%s did not log the postgres store", r.url)
			}
			if strings.Contains(r.logs.String(), "search_path") {
				t.Errorf("%s logged its connection string", r.url)
			}
		}
		if _, err := os.Stat(filepath.Join(a.dir, "fedgate.db")); !os.IsNotExist(err) {
			t.Errorf("an SQLite file was created beside the config (stat: %v)", err)
		}
	})
}
