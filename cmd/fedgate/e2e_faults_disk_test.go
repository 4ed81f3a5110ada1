package main

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// diskFaultTmpfs is the size of the file system the SQLite store gets.
const diskFaultTmpfs = "8m"

// withSmallDisk runs fedgate in a mount namespace of its own (unshare, no
// root needed) where its store lives on a tmpfs of diskFaultTmpfs; the test
// reaches that file system through /proc/PID/root.
func withSmallDisk(e *env) string {
	if _, err := exec.LookPath("unshare"); err != nil {
		e.t.Skip("unshare (util-linux) is missing")
	}
	if out, err := exec.Command("unshare", "--user", "--map-root-user", "--mount", "true").CombinedOutput(); err != nil {
		e.t.Skipf("this machine allows no user and mount namespaces: %v %s", err, out)
	}
	data := filepath.Join(e.dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		e.t.Fatal(err)
	}
	e.storePath = "data/fedgate.db"
	e.wrap = []string{"unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
		`mount -t tmpfs -o size=` + diskFaultTmpfs + ` tmpfs "$0" && exec "$@"`, data}
	return ""
}

// fill writes a ballast file until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return path
		}
	}
}

// TestFaultsSQLiteDiskFull: the store's disk fills up under fedgate.
// /readyz turns 503, a write answers a clear 503 store_unavailable with
// Retry-After and is not applied; once space returns fedgate is ready
// again and writes work without a restart; the database passes
// integrity_check and holds every acknowledged change.
func TestFaultsSQLiteDiskFull(t *testing.T) {
	e := startEnv(t, withAdmin, withSmallDisk)
	data := fmt.Sprintf("/proc/%d/root%s", e.proc.Pid, filepath.Join(e.dir, "data"))
	token := e.token("alice", e2eClientID, 15*time.Minute)
	client := loadClient(1)
	addRule := func(name string) outcome {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/admin/api/v1/pools/team/rules",
			strings.NewReader(`{"name":"`+name+`","match":[{"claim":"sub","op":"equals","value":"`+name+`"}],"role":"`+e.readerRole+`"}`))
		req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
		req.Header.Set("Content-Type", "application/json")
		return do(client, req)
	}
	ready := func() int {
		r := send(t, nil, http.MethodGet, e.url+"/readyz", "")
		return r.status
	}
	if o := do(client, e.vendRequest(token)()); o.status != http.StatusOK {
		t.Fatalf("vend before: %+v", o)
	}
	if o := addRule("before-full"); o.status/100 != 2 {
		t.Fatalf("edit before: %+v", o)
	}

	ballast := fill(t, data)
	waitFor(t, 5*time.Second, "/readyz 503 on a full disk", func() bool { return ready() == http.StatusServiceUnavailable })
	o := addRule("while-full")
	if o.status != http.StatusServiceUnavailable || o.code != "store_unavailable" || o.retryAfter == "" {
		t.Errorf("edit on a full disk: HTTP %d %q Retry-After %q, want 503 store_unavailable", o.status, o.code, o.retryAfter)
	}
	// The vend works at STS, but its audit row cannot be written: the
	// credentials are withheld.
	if v := do(client, e.vendRequest(token)()); v.status != http.StatusServiceUnavailable || v.code != "store_unavailable" {
		t.Errorf("vend on a full disk: HTTP %d %q, want 503 store_unavailable", v.status, v.code)
	}
	if logs := e.logs.String(); strings.Contains(logs, "database disk image is malformed") {
		t.Errorf("the store reports corruption:\n%s", logs)
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "/readyz 200 once space returns", func() bool { return ready() == http.StatusOK })
	if o := addRule("after-full"); o.status/100 != 2 {
		t.Errorf("edit after space returned: %+v", o)
	}
	if o := do(client, e.vendRequest(token)()); o.status != http.StatusOK {
		t.Errorf("vend after space returned: %+v", o)
	}
	rules := map[string]int{}
	for _, n := range e.ruleNames(t, "team") {
		rules[n]++
	}
	if rules["before-full"] != 1 || rules["after-full"] != 1 || rules["while-full"] != 0 {
		t.Errorf("rules after the disk was full: %v", rules)
	}
	// SQLite resolves /proc/PID/root to the host's root, so check a copy
	// of the database and its WAL, taken while nothing writes.
	snapshot := t.TempDir()
	for _, f := range []string{"fedgate.db", "fedgate.db-wal"} {
		raw, err := os.ReadFile(filepath.Join(data, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(snapshot, f), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(snapshot, "fedgate.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q %v", check, err)
	}
}
