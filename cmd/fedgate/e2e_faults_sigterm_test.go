package main

import (
	"database/sql"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"fedgate/cmd/fedgate/internal/peers"
)

// auditedVends counts the successful vends in a SQLite store's audit log.
func auditedVends(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit_log WHERE kind = 'vend' AND result = 'ok'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// shutdownGrace is server.shutdown_grace in the STS fault test, whose last
// step is sigtermUnderLoad.
const shutdownGrace = 4 * time.Second

// sigtermUnderLoad: with STS answering after 300 ms (toxiproxy latency),
// SIGTERM always finds vends in flight. Every request sent before the
// signal is answered 200; after it, new requests find the port closed and
// none gets an error answer; fedgate exits 0 within shutdown_grace; every
// 200 vend is in the audit log. It stops e's fedgate.
func sigtermUnderLoad(t *testing.T, e *env, proxy *peers.Proxy, token string) {
	const grace = shutdownGrace
	proxy.Toxic(t, "slow", "latency", "downstream", map[string]any{"latency": 300})
	auditedBefore := auditedVends(t, filepath.Join(e.dir, "fedgate.db"))
	l := startLoad(8, e.vendRequest(token))
	time.Sleep(2 * time.Second)
	signalled := time.Now()
	if err := e.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.exited:
	case <-time.After(grace + 5*time.Second):
		t.Fatalf("fedgate still runs %s after SIGTERM", grace+5*time.Second)
	}
	exitedAfter := time.Since(signalled)
	time.Sleep(200 * time.Millisecond)
	outs := l.stop()

	var inFlight, ok, refusedAfter int
	for _, o := range outs {
		before := o.at.Before(signalled)
		if o.status == http.StatusOK {
			ok++
		}
		switch {
		case before && o.status != http.StatusOK:
			t.Errorf("a request sent before SIGTERM failed: %+v", o)
		case before && o.at.Add(o.took).After(signalled):
			inFlight++
		case !before && o.status != http.StatusOK && o.status != 0:
			t.Errorf("a request after SIGTERM got an error answer: %+v", o)
		case !before && o.status == 0:
			refusedAfter++
		}
	}
	if inFlight == 0 {
		t.Fatalf("no request was in flight at SIGTERM: %v", summary(outs))
	}
	if code := e.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
	if exitedAfter > grace+time.Second {
		t.Errorf("exited %s after SIGTERM; shutdown_grace is %s", exitedAfter, grace)
	}
	if n := auditedVends(t, filepath.Join(e.dir, "fedgate.db")) - auditedBefore; n != ok {
		t.Errorf("%d vends answered 200, %d audited", ok, n)
	}
	t.Logf("SIGTERM: %d requests in flight all answered 200; exit after %s; %d vends, all audited; %d requests after the signal found the port closed",
		inFlight, exitedAfter.Round(time.Millisecond), ok, refusedAfter)
}
