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
	name    string
	cmd     *exec.Cmd
	output  *testkit.LogBuffer // stderr, and stdout but for the port line
	exited  chan struct{}
	waitErr error // how it exited; read after exited is closed
	port    int
}

// startProcess runs cmd (see runProcess) and waits for its "PORT n" line.
func startProcess(t testing.TB, name string, cmd *exec.Cmd) (*process, error) {
	t.Helper()
	start := time.Now()
	ports := make(chan int, 1)
	p, err := runProcess(t, name, cmd, ports)
	if err != nil {
		return nil, err
	}
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

// runProcess runs cmd in a new process group with its output kept, and
// registers cleanups that stop the whole group and show the output if the
// test failed. When ports is not nil, the first "PORT n" line of stdout
// goes there instead of to the output.
func runProcess(t testing.TB, name string, cmd *exec.Cmd, ports chan<- int) (*process, error) {
	t.Helper()
	p := &process{name: name, cmd: cmd, output: &testkit.LogBuffer{}, exited: make(chan struct{})}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = p.output
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: stdout pipe: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start: %w", name, err)
	}
	go func() {
		defer close(p.exited)
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			line := scanner.Text()
			if m := portLine.FindStringSubmatch(line); ports != nil && m != nil {
				port, _ := strconv.Atoi(m[1])
				ports <- port
				ports = nil
				continue
			}
			fmt.Fprintln(p.output, line)
		}
		// Wait only after the pipe is drained, as os/exec requires.
		if p.waitErr = cmd.Wait(); p.waitErr != nil {
			fmt.Fprintf(p.output, "[%s exited: %v]\n", name, p.waitErr)
		}
	}()

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.output.String())
		}
	})
	t.Cleanup(p.stop)
	return p, nil
}

// done delivers how the process exited once it has, for testkit.WaitHTTP.
func (p *process) done() <-chan error {
	ch := make(chan error, 1)
	go func() {
		<-p.exited
		ch <- p.waitErr
	}()
	return ch
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
