package gateway

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
)

// BenchmarkVendAPI is one full POST /api/v1/credentials through the gin
// handler: bearer check, JSON decode, token verification (test verifier),
// rules, identity get-or-create in SQLite, minting fedgate's ES256 token,
// the (fake) STS call and the JSON answer, with JSON logging at INFO.
func BenchmarkVendAPI(b *testing.B) {
	h := newGWHarness(b)
	h.srv.log = slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h.sts.Quiet()
	if w := h.api(gwTokenAlice, `{"pool":"team"}`); w.Code != http.StatusOK {
		b.Fatalf("%d %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		if w := h.api(gwTokenAlice, `{"pool":"team"}`); w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkRulesOnly is the mapping step of the same request alone.
func BenchmarkRulesOnly(b *testing.B) {
	h := newGWHarness(b)
	pool := h.srv.core.Snapshot().Pools["team"]
	ident, err := h.verify.VerifyToken(b.Context(), gwTokenAlice)
	if err != nil {
		b.Fatal(err)
	}
	if d := pool.Mapping.Evaluate(ident.Claims); len(d.Grants) != 1 || d.Grants[0].Role != gwReader {
		b.Fatalf("decision %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		pool.Mapping.Evaluate(ident.Claims)
	}
}
