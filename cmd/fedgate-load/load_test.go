package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheckLoopbackURL(t *testing.T) {
	cases := []struct {
		url  string
		want string // "" accepted, else a fragment of the error
	}{
		{"http://127.0.0.1:8080/healthz", ""},
		{"http://127.0.0.1/", ""},
		{"http://127.45.6.7:9/x?y=1", ""},
		{"https://[::1]:8443/", ""},
		{"http://[::ffff:127.0.0.1]:80/", ""},
		{"http://localhost:8080/", "IP literal"},
		{"http://LOCALHOST/", "IP literal"},
		{"http://127.0.0.1.nip.io/", "IP literal"},
		{"http://example.com/", "IP literal"},
		{"http://2130706433/", "IP literal"}, // 127.0.0.1 as an integer: not a literal netip accepts
		{"http://0x7f.1/", "IP literal"},
		{"http://10.0.0.1:8080/", "not a loopback"},
		{"http://192.168.1.10/", "not a loopback"},
		{"http://169.254.169.254/latest/meta-data/", "not a loopback"},
		{"http://0.0.0.0:8080/", "not a loopback"},
		{"http://128.0.0.1/", "not a loopback"},
		{"http://[::]:80/", "not a loopback"},
		{"http://[::2]/", "not a loopback"},
		{"http://[::ffff:10.0.0.1]/", "not a loopback"},
		{"http://[fe80::1%25lo]/", "zone"},
		{"http://[::1%25lo]/", "zone"},
		{"ftp://127.0.0.1/", "scheme"},
		{"127.0.0.1:8080", "not a URL"},
		{"127.0.0.1/x", "scheme"},
		{"//127.0.0.1/", "scheme"},
		{"", "scheme"},
		{"http://user:pw@127.0.0.1/", "user info"},
		{"http://127.0.0.1/#frag", "fragment"},
		{"http:///path", "no host"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			_, err := checkLoopbackURL(tc.url)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatal("accepted, want refused")
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestNonLoopbackRefusedBeforeAnyRequest: the command refuses the target at
// parse time, exit status 2, whether given by -url or in a plan (where
// every problem is listed at once).
func TestNonLoopbackRefusedBeforeAnyRequest(t *testing.T) {
	plan := filepath.Join(t.TempDir(), "plan.json")
	writeFile(t, plan, `{"targets":[
		{"name":"ok","url":"http://127.0.0.1:1/"},
		{"name":"metadata","url":"http://169.254.169.254/"},
		{"name":"named","url":"http://localhost:1/"},
		{"name":"ok","method":"BREW","url":"http://[::1]:1/","expect":1000}]}`)
	for name, args := range map[string][]string{
		"url":  {"-url", "http://192.0.2.1/", "-n", "1", "-d", "1s"},
		"plan": {"-plan", plan},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(t.Context(), args, &out, &errb); code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", code, errb.String())
			}
			if out.Len() != 0 {
				t.Errorf("something ran: %s", out.String())
			}
			if name == "plan" {
				for _, want := range []string{"targets[1].url", "targets[2].url", `targets[3].name: "ok" is used twice`, "targets[3].method", "targets[3].expect"} {
					if !strings.Contains(errb.String(), want) {
						t.Errorf("stderr lacks %q:\n%s", want, errb.String())
					}
				}
			}
		})
	}
}

// TestDialerRefusesNonLoopback: even a request built around the URL check
// cannot reach another address, and a redirect away is not followed.
func TestDialerRefusesNonLoopback(t *testing.T) {
	c := newLoopbackClient(1, 2*time.Second)
	_, err := c.Get("http://192.0.2.1:80/") // TEST-NET-1: must never be dialled
	if !errors.Is(err, errNotLoopback) {
		t.Fatalf("dial to 192.0.2.1: %v, want errNotLoopback", err)
	}
	if kind := transportKind(err); kind != "refused: not loopback" {
		t.Errorf("kind %q", kind)
	}

	away := httptest.NewServer(http.RedirectHandler("http://192.0.2.1/", http.StatusFound))
	defer away.Close()
	l := &loader{client: c, now: time.Now}
	r, err := l.run(t.Context(), Target{Name: "redirect", Method: "GET", URL: away.URL, Expect: 200}, Limits{Requests: 3, Duration: time.Minute, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK != 0 || r.Errors["HTTP 302"] != 3 {
		t.Errorf("redirect: ok %d errors %v, want 3 × HTTP 302", r.OK, r.Errors)
	}
}

// counter is a loopback server that counts the requests it answers.
func counter(t *testing.T, h func(n int64, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(hits.Add(1), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestBoundedCount(t *testing.T) {
	for _, tc := range []struct{ n, c, warmup int }{{1, 1, 0}, {37, 4, 5}, {5, 16, 0}, {200, 8, 20}} {
		t.Run(fmt.Sprintf("n=%d c=%d warmup=%d", tc.n, tc.c, tc.warmup), func(t *testing.T) {
			srv, hits := counter(t, func(int64, http.ResponseWriter, *http.Request) {})
			l := &loader{client: newLoopbackClient(tc.c, 5*time.Second), now: time.Now}
			r, err := l.run(t.Context(), Target{Name: "x", Method: "GET", URL: srv.URL, Expect: 200},
				Limits{Requests: tc.n, Duration: time.Minute, Concurrency: tc.c, Warmup: tc.warmup})
			if err != nil {
				t.Fatal(err)
			}
			if got := hits.Load(); got != int64(tc.n+tc.warmup) {
				t.Errorf("server answered %d requests, want %d", got, tc.n+tc.warmup)
			}
			if r.Requests != tc.n || r.OK != tc.n || r.Stats.Count != tc.n || r.ErrorCount() != 0 {
				t.Errorf("result %+v", r)
			}
		})
	}
}

// fakeClock advances one millisecond every time it is read.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// TestBoundedDuration: with an injected clock, a run whose count bound is
// far away stops at its duration, and every request it counts was sent.
func TestBoundedDuration(t *testing.T) {
	srv, hits := counter(t, func(int64, http.ResponseWriter, *http.Request) {})
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := &loader{client: newLoopbackClient(1, 5*time.Second), now: clock.now}
	r, err := l.run(t.Context(), Target{Name: "x", Method: "GET", URL: srv.URL, Expect: 200},
		Limits{Requests: maxRequests, Duration: 300 * time.Millisecond, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	// One worker reads the clock three times a request (deadline, start,
	// end): 300 ms of fake time is 100 requests.
	if r.Requests != 100 || hits.Load() != 100 {
		t.Errorf("requests %d, server saw %d, want 100", r.Requests, hits.Load())
	}
	if r.Elapsed < 300*time.Millisecond || r.Stats.P50 != time.Millisecond {
		t.Errorf("elapsed %v p50 %v", r.Elapsed, r.Stats.P50)
	}
}

// TestCancelStops: an interrupted run stops early and says so.
func TestCancelStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	srv, _ := counter(t, func(n int64, _ http.ResponseWriter, _ *http.Request) {
		if n == 10 {
			cancel()
		}
	})
	l := &loader{client: newLoopbackClient(2, 5*time.Second), now: time.Now}
	r, err := l.run(ctx, Target{Name: "x", Method: "GET", URL: srv.URL, Expect: 200},
		Limits{Requests: maxRequests, Duration: maxDuration, Concurrency: 2})
	if !errors.Is(err, context.Canceled) || r.Requests >= 20 {
		t.Errorf("err %v after %d requests", err, r.Requests)
	}
}

// TestErrorsCounted: wrong statuses are errors by kind (with the AWS error
// type when there is one), kept out of the latency figures; the body sent
// and the answers never reach the output.
func TestErrorsCounted(t *testing.T) {
	const secret = "eyJSECRET-TOKEN-never-printed"
	srv, _ := counter(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer x" || r.Method != http.MethodPost:
			w.WriteHeader(http.StatusBadRequest)
		case n%4 == 0:
			w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException:http://internal/")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, secret)
		case n%4 == 1:
			w.WriteHeader(http.StatusBadGateway)
		default:
			fmt.Fprint(w, `{"secret_access_key":"`+secret+`"}`)
		}
	})
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"-url", srv.URL + "/api", "-method", "post", "-H", "Authorization: Bearer x",
		"-body", secret, "-n", "40", "-c", "1", "-warmup", "0", "-max-errors", "19"}, &out, &errb)
	if code != 1 {
		t.Errorf("exit %d with 20 errors over -max-errors 19, want 1\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"POST /api (baseline)", "HTTP 400 TooManyRequestsException ×10", "HTTP 502 ×10"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String()+errb.String(), "SECRET") {
		t.Errorf("the body or an answer was printed:\n%s%s", out.String(), errb.String())
	}

	l := &loader{client: newLoopbackClient(1, 5*time.Second), now: time.Now}
	r, err := l.run(t.Context(), Target{Name: "x", Method: "POST", URL: srv.URL, Headers: map[string]string{"Authorization": "Bearer x"}, Expect: 200},
		Limits{Requests: 40, Duration: time.Minute, Concurrency: 1, Warmup: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK != 20 || r.Stats.Count != 20 || r.ErrorCount() != 22 || r.Errors["warmup: HTTP 502"] != 1 {
		t.Errorf("ok %d, latencies %d, errors %v", r.OK, r.Stats.Count, r.Errors)
	}
	if code := run(t.Context(), []string{"-url", srv.URL, "-H", "Authorization: Bearer x", "-method", "POST", "-n", "4", "-warmup", "0", "-c", "1", "-max-errors", "2"}, &out, &errb); code != 0 {
		t.Errorf("2 errors within -max-errors 2: exit %d", code)
	}
}

func TestStats(t *testing.T) {
	hundred := make([]time.Duration, 0, 100)
	for i := 100; i >= 1; i-- { // unsorted on purpose
		hundred = append(hundred, time.Duration(i)*time.Millisecond)
	}
	cases := []struct {
		name    string
		samples []time.Duration
		want    Stats
	}{
		{"empty", nil, Stats{}},
		{"one", []time.Duration{7}, Stats{Count: 1, Min: 7, Mean: 7, P50: 7, P95: 7, P99: 7, Max: 7}},
		{"two", []time.Duration{10, 2}, Stats{Count: 2, Min: 2, Mean: 6, P50: 2, P95: 10, P99: 10, Max: 10}},
		{"1..100 ms", hundred, Stats{Count: 100, Min: time.Millisecond, Mean: 50500 * time.Microsecond,
			P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := append([]time.Duration(nil), tc.samples...)
			if got := computeStats(tc.samples); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			for i := range before {
				if before[i] != tc.samples[i] {
					t.Fatal("computeStats reordered its input")
				}
			}
		})
	}
}

func TestLimitsValidate(t *testing.T) {
	good := Limits{Requests: 10, Duration: time.Second, Concurrency: 2, Warmup: 1}
	cases := []struct {
		name string
		edit func(*Limits)
		want string
	}{
		{"good", func(*Limits) {}, ""},
		{"no count", func(l *Limits) { l.Requests = 0 }, "-n"},
		{"count too high", func(l *Limits) { l.Requests = maxRequests + 1 }, "-n"},
		{"no duration", func(l *Limits) { l.Duration = 0 }, "-d"},
		{"duration too long", func(l *Limits) { l.Duration = time.Hour }, "-d"},
		{"no workers", func(l *Limits) { l.Concurrency = 0 }, "-c"},
		{"too many workers", func(l *Limits) { l.Concurrency = maxConcurrency + 1 }, "-c"},
		{"negative warmup", func(l *Limits) { l.Warmup = -1 }, "-warmup"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := good
			tc.edit(&l)
			err := l.validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
	var errb bytes.Buffer
	if code := run(t.Context(), []string{"-url", "http://127.0.0.1:1/", "-n", "0", "-d", "2h"}, &bytes.Buffer{}, &errb); code != 2 || !strings.Contains(errb.String(), "-n must be") || !strings.Contains(errb.String(), "-d must be") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

func TestWriteTableRatios(t *testing.T) {
	results := []Result{
		{Name: "healthz", Requests: 10000, OK: 10000, Elapsed: 2 * time.Second, Stats: Stats{P50: time.Millisecond, P95: 2 * time.Millisecond, P99: 4 * time.Millisecond}},
		{Name: "vend", Requests: 500, OK: 500, Elapsed: 2 * time.Second, Stats: Stats{P50: 20 * time.Millisecond, P95: 40 * time.Millisecond, P99: 60 * time.Millisecond},
			Errors: map[string]int{"HTTP 502": 2}, FirstFail: "POST http://127.0.0.1:1/api: HTTP 502, want 200"},
	}
	var out bytes.Buffer
	if err := writeTable(&out, results); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if len(lines) < 4 {
		t.Fatalf("table:\n%s", out.String())
	}
	for _, want := range []string{"healthz (baseline)", "5000", "1.00×", "1.00ms"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("baseline row lacks %q: %s", want, lines[1])
		}
	}
	// 250 req/s is 0.05 of 5000; p50 20 ms is 20× 1 ms; p99 60 ms is 15× 4 ms.
	for _, want := range []string{"vend", " 250 ", "0.050×", "20×", "15×", " 2 "} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("vend row lacks %q: %s", want, lines[2])
		}
	}
	if !strings.Contains(out.String(), "errors in vend: HTTP 502 ×2") {
		t.Errorf("no error line:\n%s", out.String())
	}
}

func TestParsePlan(t *testing.T) {
	cases := []struct{ name, plan, want string }{
		{"good", `{"targets":[{"name":"a","url":"http://127.0.0.1:1/"}]}`, ""},
		{"unknown field", `{"targets":[{"name":"a","url":"http://127.0.0.1:1/","proxy":"x"}]}`, "unknown field"},
		{"trailing", `{"targets":[{"name":"a","url":"http://127.0.0.1:1/"}]} {}`, "trailing"},
		{"empty", `{"targets":[]}`, "no targets"},
		{"bad header", `{"targets":[{"name":"a","url":"http://127.0.0.1:1/","headers":{"X: y":"z"}}]}`, "header name"},
		{"not json", `targets`, "plan:"},
		{"huge", strings.Repeat(" ", maxPlanBytes+1), "at most"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePlan([]byte(tc.plan))
			if tc.want == "" {
				if err != nil || p.Targets[0].Method != "GET" || p.Targets[0].Expect != 200 {
					t.Errorf("err %v plan %+v", err, p)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// FuzzParsePlan: whatever the plan, parsing never panics and an accepted
// plan names only loopback targets.
func FuzzParsePlan(f *testing.F) {
	f.Add(`{"targets":[{"name":"a","url":"http://127.0.0.1:1/"}]}`)
	f.Add(`{"targets":[{"name":"a","url":"http://[::1]:1/","method":"post","headers":{"A":"b"},"body":"x","expect":201}]}`)
	f.Add(`{"targets":[{"name":"a","url":"http://10.0.0.1/"}]}`)
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := parsePlan([]byte(raw))
		if err != nil {
			return
		}
		for _, tg := range p.Targets {
			if _, err := checkLoopbackURL(tg.URL); err != nil {
				t.Fatalf("accepted %q: %v", tg.URL, err)
			}
		}
	})
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
