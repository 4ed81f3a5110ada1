package main

// The audit log under group commit, on the real binary: a vend answers 200
// only once its audit row is committed, so neither SIGKILL nor SIGTERM in
// the middle of a stream of vends loses the row of any answered vend.

import (
	"database/sql"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// vendStream sends vends from workers until stop, and collects the
// request ids of the ones answered 200.
type vendStream struct {
	mu   sync.Mutex
	ok   []string
	wg   sync.WaitGroup
	stop atomic.Bool
}

func (e *env) startVendStream(t *testing.T, workers int) *vendStream {
	token := e.token("alice", e2eClientID, 10*time.Minute)
	s := &vendStream{}
	client := &http.Client{Timeout: 10 * time.Second}
	for range workers {
		s.wg.Go(func() {
			for !s.stop.Load() {
				req, _ := http.NewRequest(http.MethodPost, e.url+"/api/v1/credentials", strings.NewReader(`{"pool":"team"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", bearer(token))
				resp, err := client.Do(req)
				if err != nil {
					return // the gateway is gone
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					s.mu.Lock()
					s.ok = append(s.ok, resp.Header.Get("X-Request-Id"))
					s.mu.Unlock()
				}
			}
		})
	}
	return s
}

// end stops the stream and returns the request ids answered 200.
func (s *vendStream) end() []string {
	s.stop.Store(true)
	s.wg.Wait()
	return s.ok
}

// auditedVends reads the request ids of the successful vends in the
// SQLite store.
func (e *env) auditedVends(t *testing.T) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "fedgate.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT request_id FROM audit_log WHERE kind = 'vend' AND result = 'ok'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id]++
	}
	return out
}

func assertEveryVendAudited(t *testing.T, answered []string, audited map[string]int) {
	t.Helper()
	if len(answered) < 20 {
		t.Fatalf("only %d vends were answered; the test needs a stream", len(answered))
	}
	for _, id := range answered {
		if audited[id] != 1 {
			t.Errorf("vend %s was answered 200 and has %d audit rows, want 1", id, audited[id])
		}
	}
	t.Logf("%d vends answered, %d audited", len(answered), len(audited))
}

func TestEndToEndAuditSurvivesSIGKILL(t *testing.T) {
	e := startEnv(t)
	s := e.startVendStream(t, 8)
	time.Sleep(2 * time.Second)
	if err := e.proc.Kill(); err != nil { // no shutdown, no flush
		t.Fatal(err)
	}
	answered := s.end()
	e.start() // recovers the database as a restart would
	assertEveryVendAudited(t, answered, e.auditedVends(t))
}

func TestEndToEndAuditDrainedOnSIGTERM(t *testing.T) {
	e := startEnv(t)
	s := e.startVendStream(t, 8)
	time.Sleep(2 * time.Second)
	if err := e.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		for e.proc.Signal(syscall.Signal(0)) == nil {
			time.Sleep(50 * time.Millisecond)
		}
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatal("fedgate did not exit within 20 s of SIGTERM")
	}
	answered := s.end()
	if strings.Contains(e.logs.String(), "writing the audit log failed") {
		t.Errorf("an audit write failed during shutdown:\n%s", e.logs.String())
	}
	if _, err := os.Stat(filepath.Join(e.dir, "fedgate.db-wal")); err == nil {
		t.Log("the WAL is still there after a clean exit (checkpointed on next open)")
	}
	assertEveryVendAudited(t, answered, e.auditedVends(t))
}
