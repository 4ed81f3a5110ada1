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

	"fedgate/cmd/fedgate/internal/peers"
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

// readOnlyFault makes the store's file system read-only under a running
// fedgate. Linux refuses to remount a file system read-only while a process
// holds files on it open for writing (SQLite does), so the test builds what
// the kernel shows a process whose file system turned read-only under it
// (ext4 errors=remount-ro): a read-only bind mount over the store's folder
// in fedgate's mount namespace, so statfs reports ST_RDONLY and new files
// cannot be created, and strace attached to fedgate answering every write,
// sync and truncate of the files already open with EROFS. Repairing it
// unmounts the bind mount and detaches strace.
type readOnlyFault struct {
	t      *testing.T
	pid    int
	dir    string // the store's folder, as fedgate sees it
	strace *exec.Cmd
}

func newReadOnlyFault(t *testing.T, e *env) *readOnlyFault {
	for _, tool := range []string{"nsenter", "strace"} {
		if _, err := exec.LookPath(tool); err != nil {
			peers.Required(t, tool)
		}
	}
	return &readOnlyFault{t: t, pid: e.proc.Pid, dir: filepath.Join(e.dir, "data")}
}

// inNamespace runs a shell command in fedgate's user and mount namespaces.
func (f *readOnlyFault) inNamespace(script string) {
	f.t.Helper()
	out, err := exec.Command("nsenter", "-t", fmt.Sprint(f.pid), "-U", "-m", "--preserve-credentials",
		"sh", "-c", script, f.dir).CombinedOutput()
	if err != nil {
		f.t.Fatalf("%s in fedgate's mount namespace: %v %s", script, err, out)
	}
}

func (f *readOnlyFault) apply() {
	f.t.Helper()
	f.strace = exec.Command("strace", "-f", "-qq", "-o", "/dev/null",
		"-e", "trace=pwrite64,pwritev,pwritev2,fsync,fdatasync,ftruncate,fallocate",
		"-e", "inject=pwrite64,pwritev,pwritev2,fsync,fdatasync,ftruncate,fallocate:error=EROFS",
		"-p", fmt.Sprint(f.pid))
	if err := f.strace.Start(); err != nil {
		f.t.Fatalf("strace: %v", err)
	}
	f.t.Cleanup(f.detach)
	waitFor(f.t, 5*time.Second, "strace attached to every fedgate thread", func() bool {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", f.pid))
		for _, status := range tasks {
			raw, err := os.ReadFile(status)
			if err != nil || strings.Contains(string(raw), "TracerPid:\t0\n") {
				return false
			}
		}
		return len(tasks) > 0
	})
	f.inNamespace(`mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"`)
}

func (f *readOnlyFault) repair() {
	f.t.Helper()
	f.inNamespace(`umount "$0"`)
	f.detach()
}

// detach ends strace, which lets fedgate's threads run on untraced.
func (f *readOnlyFault) detach() {
	if f.strace == nil || f.strace.Process == nil || f.strace.ProcessState != nil {
		return
	}
	_ = f.strace.Process.Signal(syscall.SIGTERM)
	_ = f.strace.Wait()
}

// TestFaultsSQLiteDiskFull: the store's disk fills up under fedgate.
// /readyz turns 503, a write answers a clear 503 store_unavailable with
// Retry-After and is not applied; once space returns fedgate is ready
// again and writes work without a restart; the database passes
// integrity_check and holds every acknowledged change.
func TestFaultsSQLiteDiskFull(t *testing.T) {
	var ballast string
	provesStoreOutage(t, "full",
		func(e *env, data string) { ballast = fill(t, data) },
		func(e *env, data string) {
			if err := os.Remove(ballast); err != nil {
				t.Fatal(err)
			}
		})
}

// TestFaultsSQLiteReadOnly: the store's file system turns read-only under
// fedgate (see readOnlyFault). The same promises hold as for a full disk,
// and fedgate recovers without a restart once the file system is
// writable again.
func TestFaultsSQLiteReadOnly(t *testing.T) {
	var fault *readOnlyFault
	provesStoreOutage(t, "readonly",
		func(e *env, _ string) { fault = newReadOnlyFault(t, e); fault.apply() },
		func(*env, string) { fault.repair() })
}

// provesStoreOutage starts fedgate with its SQLite store on a small tmpfs,
// makes one acknowledged edit, calls breakStore, and checks that /readyz
// is 503, an admin edit and a vend answer 503 store_unavailable with
// Retry-After and the store reports no corruption; then it calls
// repairStore and checks that fedgate is ready and writes again without a
// restart, that the database passes integrity_check and that it holds
// exactly the acknowledged edits. data is the tmpfs as the test sees it.
func provesStoreOutage(t *testing.T, fault string, breakStore, repairStore func(e *env, data string)) {
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
	before, during, after := "before-"+fault, "while-"+fault, "after-"+fault
	if o := do(client, e.vendRequest(token)()); o.status != http.StatusOK {
		t.Fatalf("vend before: %+v", o)
	}
	if o := addRule(before); o.status/100 != 2 {
		t.Fatalf("edit before: %+v", o)
	}

	breakStore(e, data)
	waitFor(t, 5*time.Second, "/readyz 503 on a "+fault+" store", func() bool { return ready() == http.StatusServiceUnavailable })
	o := addRule(during)
	if o.status != http.StatusServiceUnavailable || o.code != "store_unavailable" || o.retryAfter == "" {
		t.Errorf("edit on a %s store: HTTP %d %q Retry-After %q, want 503 store_unavailable", fault, o.status, o.code, o.retryAfter)
	}
	// The vend works at STS, but its audit row cannot be written: the
	// credentials are withheld.
	if v := do(client, e.vendRequest(token)()); v.status != http.StatusServiceUnavailable || v.code != "store_unavailable" || v.retryAfter == "" {
		t.Errorf("vend on a %s store: HTTP %d %q Retry-After %q, want 503 store_unavailable", fault, v.status, v.code, v.retryAfter)
	}
	if logs := e.logs.String(); strings.Contains(logs, "database disk image is malformed") {
		t.Errorf("the store reports corruption:\n%s", logs)
	}

	repairStore(e, data)
	waitFor(t, 5*time.Second, "/readyz 200 once the store is repaired", func() bool { return ready() == http.StatusOK })
	if o := addRule(after); o.status/100 != 2 {
		t.Errorf("edit after the store was repaired: %+v", o)
	}
	if o := do(client, e.vendRequest(token)()); o.status != http.StatusOK {
		t.Errorf("vend after the store was repaired: %+v", o)
	}
	rules := map[string]int{}
	for _, n := range e.ruleNames(t, "team") {
		rules[n]++
	}
	if rules[before] != 1 || rules[after] != 1 || rules[during] != 0 {
		t.Errorf("rules after the %s store: %v", fault, rules)
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
