package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

// BenchmarkAdminCommit is one admin change end to end in process: read the
// live document, apply, validate, build the snapshot, seal and store the
// version with its audit entry (SQLite, one transaction).
func BenchmarkAdminCommit(b *testing.B) {
	h := newGWHarness(b, withAdmin)
	who := &adminPrincipal{Actor: "bench", Display: "bench", Role: config.AdminOwner}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_, pe := h.srv.commit(ctx, who, updatePool("team", "", func(p *config.Pool) *core.Error {
			p.DisplayName = fmt.Sprintf("Team %d", i)
			return nil
		}, "rename"))
		if pe != nil {
			b.Fatal(pe)
		}
	}
}

// BenchmarkAdminSimulate is one decision trace with trust policies.
func BenchmarkAdminSimulate(b *testing.B) {
	h := newGWHarness(b, withAdmin)
	req := simulateRequest{Pool: "team", Claims: map[string]any{"sub": "x", "groups": []any{"dev", "admins"}, "team": "blue"}}
	for b.Loop() {
		if _, e := h.srv.simulate(context.Background(), req); e != nil {
			b.Fatal(e)
		}
	}
}

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
