package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxDrainBytes is how much of each answer is read (and thrown away) so the
// connection can be reused.
const maxDrainBytes = 1 << 20

// Limits bound one target's run: it stops at whichever of Requests and
// Duration comes first. Warmup requests go first and are not measured.
type Limits struct {
	Requests    int
	Duration    time.Duration
	Concurrency int
	Warmup      int
}

func (l Limits) validate() error {
	var problems []string
	if l.Requests < 1 || l.Requests > maxRequests {
		problems = append(problems, fmt.Sprintf("-n must be 1..%d", maxRequests))
	}
	if l.Duration < 100*time.Millisecond || l.Duration > maxDuration {
		problems = append(problems, fmt.Sprintf("-d must be 100ms..%v", maxDuration))
	}
	if l.Concurrency < 1 || l.Concurrency > maxConcurrency {
		problems = append(problems, fmt.Sprintf("-c must be 1..%d", maxConcurrency))
	}
	if l.Warmup < 0 || l.Warmup > maxWarmup {
		problems = append(problems, fmt.Sprintf("-warmup must be 0..%d", maxWarmup))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

const maxDuration = 10 * time.Minute

// Result is what one target's measured phase did.
type Result struct {
	Name      string         `json:"name"`
	Requests  int            `json:"requests"` // measured, answered or failed
	OK        int            `json:"ok"`       // answered with the expected status
	Errors    map[string]int `json:"errors"`   // by kind, warmup included
	Elapsed   time.Duration  `json:"elapsed_ns"`
	Stats     Stats          `json:"latency"` // of the OK requests
	FirstFail string         `json:"first_failure,omitempty"`
	// CPUMicrosPerRequest is the -cpu-pid process's CPU per request.
	CPUMicrosPerRequest float64 `json:"cpu_us_per_request,omitempty"`
}

// ErrorCount is the number of failed requests, warmup included.
func (r Result) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// RPS is successful requests per second of the measured phase.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// loader sends the requests. The HTTP client and the clock are injected.
type loader struct {
	client *http.Client
	now    func() time.Time
}

// newLoopbackClient is an HTTP client that can only reach loopback
// addresses: no proxy, no redirects, and a dialer that refuses any other
// address it is handed.
func newLoopbackClient(concurrency int, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error { return checkDialAddress(address) },
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     30 * time.Second,
			ForceAttemptHTTP2:   false,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// phase is what a group of workers collected.
type phase struct {
	mu        sync.Mutex
	latencies []time.Duration
	errors    map[string]int
	firstFail string
	done      int
}

func (p *phase) record(lat time.Duration, failure, detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if failure == "" {
		p.latencies = append(p.latencies, lat)
		return
	}
	p.errors[failure]++
	if p.firstFail == "" {
		p.firstFail = detail
	}
}

// run loads one target: the warmup, then the measured phase.
func (l *loader) run(ctx context.Context, t Target, lim Limits) (Result, error) {
	if err := lim.validate(); err != nil {
		return Result{}, err
	}
	if _, err := checkLoopbackURL(t.URL); err != nil {
		return Result{}, fmt.Errorf("%s: %w", t.Name, err)
	}
	res := Result{Name: t.Name, Errors: map[string]int{}}
	if lim.Warmup > 0 {
		w := l.phase(ctx, t, lim.Warmup, lim.Concurrency, l.now().Add(lim.Duration))
		for k, v := range w.errors {
			res.Errors["warmup: "+k] += v
		}
		res.FirstFail = w.firstFail
	}
	start := l.now()
	m := l.phase(ctx, t, lim.Requests, lim.Concurrency, start.Add(lim.Duration))
	res.Elapsed = l.now().Sub(start)
	res.Requests = m.done
	res.OK = len(m.latencies)
	for k, v := range m.errors {
		res.Errors[k] += v
	}
	if res.FirstFail == "" {
		res.FirstFail = m.firstFail
	}
	res.Stats = computeStats(m.latencies)
	return res, ctx.Err()
}

// phase sends at most n requests with c workers, starting none after
// deadline; requests in flight at the deadline are allowed to finish.
func (l *loader) phase(ctx context.Context, t Target, n, c int, deadline time.Time) *phase {
	p := &phase{errors: map[string]int{}, latencies: make([]time.Duration, 0, min(n, 1<<16))}
	var issued atomic.Int64
	var wg sync.WaitGroup
	for range min(c, n) {
		wg.Go(func() {
			for ctx.Err() == nil && issued.Add(1) <= int64(n) && l.now().Before(deadline) {
				begin := l.now()
				failure, detail := l.once(ctx, t)
				p.record(l.now().Sub(begin), failure, detail)
			}
		})
	}
	wg.Wait()
	return p
}

// once sends one request and classifies the outcome: "" when the answer
// had the expected status. The body is never echoed (it may carry a
// token, and an answer may carry credentials).
func (l *loader) once(ctx context.Context, t Target) (failure, detail string) {
	var body io.Reader
	if t.Body != "" {
		body = strings.NewReader(t.Body)
	}
	req, err := http.NewRequestWithContext(ctx, t.Method, t.URL, body)
	if err != nil {
		return "request error", err.Error()
	}
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		kind := transportKind(err)
		return kind, fmt.Sprintf("%s %s: %s", t.Method, req.URL.Redacted(), kind)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	_ = resp.Body.Close()
	if resp.StatusCode != t.Expect {
		kind := fmt.Sprintf("HTTP %d", resp.StatusCode)
		if et := resp.Header.Get("X-Amzn-Errortype"); et != "" {
			kind += " " + firstToken(et)
		}
		return kind, fmt.Sprintf("%s %s: %s, want %d", t.Method, req.URL.Redacted(), kind, t.Expect)
	}
	return "", ""
}

// firstToken keeps an AWS error type short and printable ("Type:extra").
func firstToken(s string) string {
	if i := strings.IndexAny(s, ": "); i >= 0 {
		s = s[:i]
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// transportKind names a failed round trip without its (varying) details.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errNotLoopback):
		return "refused: not loopback"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection reset"
	default:
		return "transport error"
	}
}
