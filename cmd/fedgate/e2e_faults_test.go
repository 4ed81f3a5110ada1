package main

// The fault suite's shared parts: load that keeps hitting the real binary
// while a test injects a fault, and what each answer looked like. The
// faults themselves are put in by toxiproxy (peers.StartToxiproxy) between
// fedgate and the dependency, or by the dependency itself.

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// outcome is one answer the load got.
type outcome struct {
	at         time.Time // when the request was sent
	took       time.Duration
	status     int // 0: no HTTP answer
	code       string
	retryAfter string
	err        error
}

// load runs workers that each send request in a loop until stop.
type load struct {
	mu       sync.Mutex
	outcomes []outcome
	done     chan struct{}
	wg       sync.WaitGroup
}

// loadClient keeps a connection per worker, as a real client pool does.
func loadClient(workers int) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
}

// startLoad sends newReq from workers goroutines until stop is called.
func startLoad(workers int, newReq func() *http.Request) *load {
	l := &load{done: make(chan struct{})}
	client := loadClient(workers)
	for range workers {
		l.wg.Go(func() {
			for {
				select {
				case <-l.done:
					return
				default:
				}
				l.add(do(client, newReq()))
			}
		})
	}
	return l
}

func (l *load) add(o outcome) {
	l.mu.Lock()
	l.outcomes = append(l.outcomes, o)
	l.mu.Unlock()
}

// snapshot is every outcome so far.
func (l *load) snapshot() []outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.outcomes)
}

// stop ends the load and returns every outcome.
func (l *load) stop() []outcome {
	close(l.done)
	l.wg.Wait()
	return l.snapshot()
}

// do sends req and reads the error code of a JSON or Cognito error answer.
func do(client *http.Client, req *http.Request) outcome {
	o := outcome{at: time.Now()}
	resp, err := client.Do(req)
	o.took = time.Since(o.at)
	if err != nil {
		o.err = err
		return o
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	o.took = time.Since(o.at)
	o.status, o.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code string `json:"code"`
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(raw, &e)
		o.code = e.Code + e.Type
	}
	return o
}

// vendRequest is a JSON API vend for the team pool with token.
func (e *env) vendRequest(token string) func() *http.Request {
	return func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/api/v1/credentials", strings.NewReader(`{"pool":"team"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		return req
	}
}

// summary counts outcomes by status (and error code), for failure messages.
func summary(outs []outcome) map[string]int {
	m := map[string]int{}
	for _, o := range outs {
		key := http.StatusText(o.status) + " " + o.code
		if o.err != nil {
			key = "error: " + o.err.Error()
		}
		m[key]++
	}
	return m
}

// percentile is the p-th percentile (0..100) of the outcomes' latencies.
func percentile(outs []outcome, p float64) time.Duration {
	if len(outs) == 0 {
		return 0
	}
	d := make([]time.Duration, len(outs))
	for i, o := range outs {
		d[i] = o.took
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p/100))]
}

// waitFor polls cond every 50ms until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}
