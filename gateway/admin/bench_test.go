package admin

import (
	"context"
	"fmt"
	"testing"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

// BenchmarkAdminCommit is one admin change end to end in process: read the
// live document, apply, validate, build the snapshot, seal and store the
// version with its audit entry (SQLite, one transaction).
func BenchmarkAdminCommit(b *testing.B) {
	s := newTestAdmin(b)
	who := &principal{Actor: "bench", Display: "bench", Role: config.AdminOwner}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		_, pe := s.commit(ctx, who, updatePool("team", "", func(p *config.Pool) *core.Error {
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
	s := newTestAdmin(b)
	req := simulateRequest{Pool: "team", Claims: map[string]any{"sub": "x", "groups": []any{"dev", "admins"}, "team": "blue"}}
	for b.Loop() {
		if _, e := s.simulate(context.Background(), req); e != nil {
			b.Fatal(e)
		}
	}
}
