package gateway

import (
	"context"
	"testing"

	"fedgate/gateway/store"
)

// TestAuditSurvivesClientDisconnect is a regression test: the audit entry
// of a vend was written with the request's context, so a client that hung
// up after STS had answered (found by testdata/load/run.sh, stopping the
// load mid-run) left credentials vended and no audit entry for them.
func TestAuditSurvivesClientDisconnect(t *testing.T) {
	h := newGWHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone
	h.srv.core.Audit(ctx, store.AuditEntry{Kind: store.AuditVend, Provider: "app", Subject: "alice", Pool: "team",
		Role: gwReader, IdentityID: "us-east-1:00000000-0000-4000-8000-000000000001", Result: store.AuditOK, Reason: "rule readers"})
	es := h.auditEntries(store.AuditQuery{Kind: store.AuditVend})
	if len(es) != 1 || es[0].Subject != "alice" || es[0].Result != store.AuditOK {
		t.Fatalf("audit entries after a disconnect: %+v", es)
	}
}
