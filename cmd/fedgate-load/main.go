// Command fedgate-load is a small, bounded load generator for measuring a
// fedgate on this machine. It loads each target of a plan in turn (the
// first is the baseline), stops each at -n requests or -d, whichever comes
// first, and prints requests/s, p50/p95/p99 latency and errors, each figure
// also as a ratio to the baseline measured in the same run.
//
// It only ever talks to loopback addresses (127.0.0.0/8, ::1), given as IP
// literals: any other host is refused before a request is sent, and the
// dialer refuses again whatever address it is handed. testdata/load/run.sh
// starts fedgate and its peers and drives it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const usage = `fedgate-load — bounded load against a fedgate on this machine (loopback only)

Usage:
  fedgate-load -plan plan.json [flags]
  fedgate-load -url http://127.0.0.1:8080/healthz [-method POST -body '{}' -H 'K: V' -expect 200] [flags]

A plan is {"targets":[{"name","method","url","headers":{},"body","expect"}, ...]}; the
first target is the baseline. Bodies and answers are never printed.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// run is main without the process: 0 on success, 1 when a target failed
// more than -max-errors times or the run was interrupted, 2 on bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fedgate-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	var (
		planPath  = fs.String("plan", "", "JSON plan file (the first target is the baseline)")
		target    = Target{}
		headers   headerFlags
		lim       Limits
		timeout   = fs.Duration("timeout", 10*time.Second, "timeout of one request")
		jsonOut   = fs.String("json", "", "also write the results as JSON to this file")
		maxErrors = fs.Int("max-errors", 0, "exit 1 when a target has more failed requests than this")
		cpuPID    = fs.Int("cpu-pid", 0, "also report this process's CPU µs per request of each target (Linux /proc)")
		calib     = fs.Duration("calibrate", 0, "time one RS256 verify and one ES256 sign for this long each, print them as JSON and exit")
	)
	fs.StringVar(&target.URL, "url", "", "single target URL (instead of -plan)")
	fs.StringVar(&target.Method, "method", "GET", "single target: HTTP method")
	fs.StringVar(&target.Body, "body", "", "single target: request body")
	fs.IntVar(&target.Expect, "expect", 200, "single target: the status that counts as success")
	fs.StringVar(&target.Name, "name", "", "single target: name in the table (default: method and path)")
	fs.Var(&headers, "H", "single target: header 'Name: value' (repeatable)")
	fs.IntVar(&lim.Requests, "n", 100_000, fmt.Sprintf("at most this many measured requests per target (1..%d)", maxRequests))
	fs.DurationVar(&lim.Duration, "d", 10*time.Second, fmt.Sprintf("at most this long per target (100ms..%v)", maxDuration))
	fs.IntVar(&lim.Concurrency, "c", 8, fmt.Sprintf("concurrent requests (1..%d)", maxConcurrency))
	fs.IntVar(&lim.Warmup, "warmup", 20, fmt.Sprintf("unmeasured requests per target before measuring (0..%d)", maxWarmup))
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *calib > 0 {
		c, err := calibrate(min(*calib, 10*time.Second))
		if err != nil {
			fmt.Fprintf(stderr, "fedgate-load: calibration: %v\n", err)
			return 1
		}
		raw, _ := json.Marshal(c)
		fmt.Fprintln(stdout, string(raw))
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fedgate-load: unexpected arguments %q\n", fs.Args())
		return 2
	}
	plan, err := loadPlan(*planPath, target, headers)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate-load: %v\n", err)
		return 2
	}
	if err := lim.validate(); err != nil {
		fmt.Fprintf(stderr, "fedgate-load: %v\n", err)
		return 2
	}
	if *timeout <= 0 || *timeout > time.Minute {
		fmt.Fprintln(stderr, "fedgate-load: -timeout must be above 0 and at most 1m")
		return 2
	}

	l := &loader{client: newLoopbackClient(lim.Concurrency, *timeout), now: time.Now}
	fmt.Fprintf(stdout, "fedgate-load: targets %d, each up to %d requests or %v, concurrency %d, warmup %d\n",
		len(plan.Targets), lim.Requests, lim.Duration, lim.Concurrency, lim.Warmup)
	var results []Result
	code := 0
	for _, t := range plan.Targets {
		var cpuBefore time.Duration
		if *cpuPID > 0 {
			if cpuBefore, err = processCPU(*cpuPID); err != nil {
				fmt.Fprintf(stderr, "fedgate-load: -cpu-pid: %v\n", err)
				return 2
			}
		}
		r, err := l.run(ctx, t, lim)
		if err == nil && *cpuPID > 0 {
			// Warmup requests ran too: they are counted in.
			var after time.Duration
			if after, err = processCPU(*cpuPID); err == nil && r.Requests+lim.Warmup > 0 {
				r.CPUMicrosPerRequest = float64((after - cpuBefore).Microseconds()) / float64(r.Requests+lim.Warmup)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "fedgate-load: %s: %v\n", t.Name, err)
			code = 1
			break
		}
		results = append(results, r)
		if r.ErrorCount() > *maxErrors {
			code = 1
		}
	}
	if err := writeTable(stdout, results); err != nil {
		fmt.Fprintf(stderr, "fedgate-load: %v\n", err)
		return 1
	}
	if *jsonOut != "" {
		raw, err := json.MarshalIndent(results, "", "  ")
		if err == nil {
			err = os.WriteFile(*jsonOut, append(raw, '\n'), 0o600)
		}
		if err != nil {
			fmt.Fprintf(stderr, "fedgate-load: %v\n", err)
			return 1
		}
	}
	if code != 0 {
		fmt.Fprintf(stderr, "fedgate-load: failed (more than %d errors in a target, or interrupted)\n", *maxErrors)
	}
	return code
}

// loadPlan reads -plan, or builds a one-target plan from the -url flags.
func loadPlan(path string, single Target, headers headerFlags) (*Plan, error) {
	if (path == "") == (single.URL == "") {
		return nil, errors.New("give exactly one of -plan and -url")
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		raw, err := io.ReadAll(io.LimitReader(f, maxPlanBytes+1))
		if err != nil {
			return nil, err
		}
		return parsePlan(raw)
	}
	single.Headers = map[string]string{}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return nil, fmt.Errorf("-H %q: want 'Name: value'", h)
		}
		single.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if single.Name == "" {
		single.Name = strings.ToUpper(single.Method) + " " + single.URL
		if u, err := checkLoopbackURL(single.URL); err == nil {
			single.Name = strings.ToUpper(single.Method) + " " + u.EscapedPath()
		}
	}
	p := &Plan{Targets: []Target{single}}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}
