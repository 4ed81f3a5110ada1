package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"fedgate/gateway/config"
)

// BenchmarkAdminAPIPutPool is PUT /admin/api/v1/pools/team through the
// router: auth, decode, commit, encode.
func BenchmarkAdminAPIPutPool(b *testing.B) {
	h := newGWHarness(b, withAdmin)
	var pool map[string]any
	decodeBody(b, h.adminCall(http.MethodGet, "/admin/api/v1/pools/team", ""), &pool)
	for i := 0; b.Loop(); i++ {
		pool["display_name"] = fmt.Sprintf("Team %d", i)
		body, _ := json.Marshal(pool)
		if w := h.adminCall(http.MethodPut, "/admin/api/v1/pools/team", string(body), "If-Match", "*"); w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkAdminSessionRead is GET /admin/api/v1/me with an admin session
// cookie: open the sealed session and work out the role from its claims
// with the current admin rules (compiled once at start), with match
// rules and with a CEL rule.
func BenchmarkAdminSessionRead(b *testing.B) {
	withCEL := func(f *config.File) {
		withAdmin(f)
		f.Admin.Rules = append(f.Admin.Rules, config.AdminRule{Name: "cel", CEL: `"admins" in claims.groups && claims.team == "red"`, Role: config.AdminOwner})
	}
	for _, bb := range []struct {
		name string
		opt  gwOption
	}{{"match", withAdmin}, {"cel", withCEL}} {
		b.Run(bb.name, func(b *testing.B) {
			h := newGWHarness(b, bb.opt)
			carol, _ := h.signedInAdmin("carol", gwPassCarol)
			for b.Loop() {
				if w := carol.get("/admin/api/v1/me"); w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
