//go:build unix

package peers

import (
	"bufio"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"fedgate/gateway/testkit"
)

const (
	// startTimeout bounds how long a peer may take to print its port.
	startTimeout = 60 * time.Second
	// stopGrace is how long a peer gets to exit after SIGTERM before SIGKILL.
	stopGrace = 5 * time.Second
)

// portLine is the first stdout line every peer script prints once it listens.
var portLine = regexp.MustCompile(`^PORT (\d+)$`)

var errExitedEarly = errors.New("exited before printing its port")

// process is a running peer in its own process group.
type process struct {
	name   string
	cmd    *exec.Cmd
	output *testkit.LogBuffer // stderr plus stdout after the port line
	exited chan struct{}
	port   int
}

// startProcess runs cmd in a new process group, waits for its "PORT n" line and
// registers cleanups that stop the whole group and show its output if the test failed.
func startProcess(t testing.TB, name string, cmd *exec.Cmd) (*process, error) {
	t.Helper()
	p := &process{name: name, cmd: cmd, output: &testkit.LogBuffer{}, exited: make(chan struct{})}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = p.output
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: stdout pipe: %w", name, err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start: %w", name, err)
	}

	ports := make(chan int, 1)
	go func() {
		defer close(p.exited)
		scanner := bufio.NewScanner(stdout)
		first := true
		for scanner.Scan() {
			line := scanner.Text()
			if m := portLine.FindStringSubmatch(line); first && m != nil {
				port, _ := strconv.Atoi(m[1])
				ports <- port
				first = false
				continue
			}
			fmt.Fprintln(p.output, line)
		}
		// Wait only after the pipe is drained, as os/exec requires.
		if err := cmd.Wait(); err != nil {
			fmt.Fprintf(p.output, "[%s exited: %v]\n", name, err)
		}
	}()

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.output.String())
		}
	})
	t.Cleanup(p.stop)

	select {
	case p.port = <-ports:
		t.Logf("%s listening on port %d after %v", name, p.port, time.Since(start).Round(time.Millisecond))
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("%s %w:\n%s", name, errExitedEarly, p.output.String())
	case <-time.After(startTimeout):
		return nil, fmt.Errorf("%s: no port line within %v:\n%s", name, startTimeout, p.output.String())
	}
}

// stop sends SIGTERM to the process group, then SIGKILL if it lingers.
func (p *process) stop() {
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
		return
	case <-time.After(stopGrace):
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	<-p.exited
}
