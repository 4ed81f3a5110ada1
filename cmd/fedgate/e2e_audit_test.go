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

	"fedgate/gateway/testkit"
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
	return e.startStream(t, workers, "alice", http.StatusOK)
}

// startRefusalStream is startVendStream for bob, whom no rule gives a
// role: refusals are audited like vends, and need no STS call, so they
// come many times faster and keep the audit writer busy.
func (e *env) startRefusalStream(t *testing.T, workers int) *vendStream {
	return e.startStream(t, workers, "bob", http.StatusForbidden)
}

func (e *env) startStream(t *testing.T, workers int, user string, want int) *vendStream {
	token := e.token(user, e2eClientID, 10*time.Minute)
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
				if resp.StatusCode == want {
					s.mu.Lock()
					s.ok = append(s.ok, resp.Header.Get("X-Request-Id"))
					s.mu.Unlock()
				}
			}
		})
	}
	return s
}

// answered is how many vends were answered 200 so far.
func (s *vendStream) answered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ok)
}

// warm waits until the stream has had enough vends answered to be a
// stream (at most 30 s on a busy machine).
func (s *vendStream) warm(t *testing.T) {
	t.Helper()
	if !testkit.Eventually(30*time.Second, 50*time.Millisecond, func() bool { return s.answered() >= 40 }) {
		t.Fatalf("only %d vends answered in 30 s", s.answered())
	}
}

// end stops the stream and returns the request ids answered 200.
func (s *vendStream) end() []string {
	s.stop.Store(true)
	s.wg.Wait()
	return s.ok
}

// auditedVends reads the request ids of the vend entries with result in
// the SQLite store.
func (e *env) auditedVends(t *testing.T, result string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "fedgate.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT request_id FROM audit_log WHERE kind = 'vend' AND result = $1`, result)
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

func assertEveryVendAudited(t *testing.T, what string, answered []string, audited map[string]int) {
	t.Helper()
	if len(answered) < 40 {
		t.Fatalf("only %d %s were answered; the test needs a stream", len(answered), what)
	}
	missing := 0
	for _, id := range answered {
		if audited[id] != 1 {
			missing++
			if missing <= 5 {
				t.Errorf("%s %s was answered and has %d audit rows, want 1", what, id, audited[id])
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d answered %s have no single audit row", missing, len(answered), what)
	}
	t.Logf("%d %s answered, %d audited", len(answered), what, len(audited))
}

func TestEndToEndAuditSurvivesSIGKILL(t *testing.T) {
	e := startEnv(t)
	s := e.startVendStream(t, 6)
	r := e.startRefusalStream(t, 6)
	s.warm(t)
	r.warm(t)
	if err := e.proc.Kill(); err != nil { // no shutdown, no flush
		t.Fatal(err)
	}
	answered, refused := s.end(), r.end()
	e.start() // recovers the database as a restart would
	assertEveryVendAudited(t, "vends", answered, e.auditedVends(t, "ok"))
	assertEveryVendAudited(t, "refusals", refused, e.auditedVends(t, "refused"))
}

func TestEndToEndAuditDrainedOnSIGTERM(t *testing.T) {
	e := startEnv(t)
	s := e.startVendStream(t, 6)
	r := e.startRefusalStream(t, 6)
	s.warm(t)
	r.warm(t)
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
	answered, refused := s.end(), r.end()
	if strings.Contains(e.logs.String(), "writing the audit log failed") {
		t.Errorf("an audit write failed during shutdown:\n%s", e.logs.String())
	}
	if _, err := os.Stat(filepath.Join(e.dir, "fedgate.db-wal")); err == nil {
		t.Log("the WAL is still there after a clean exit (checkpointed on next open)")
	}
	assertEveryVendAudited(t, "vends", answered, e.auditedVends(t, "ok"))
	assertEveryVendAudited(t, "refusals", refused, e.auditedVends(t, "refused"))
}
