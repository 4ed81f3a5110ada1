package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// soakDuration is FEDGATE_SOAK (a Go duration); CI runs the short default.
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("FEDGATE_SOAK")
	if v == "" {
		return 15 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("FEDGATE_SOAK: %v", err)
	}
	return d
}

// soakSurface is one kind of request of the soak's mix.
type soakSurface struct {
	name string
	req  func() *http.Request
	ok   func(status int) bool
}

// TestSoak drives every surface at half of the peak it measures first:
// the JSON API vend, Cognito GetId and GetCredentialsForIdentity, the
// admin API, sign-in starts, discovery and JWKS, health, plus a full
// browser sign-in through the IdP's pages every 2 s. It samples fedgate's
// RSS and goroutines (/metrics), the window's p99 and the store's size;
// no request may fail, and RSS and goroutines must stay flat.
//
//	FEDGATE_SOAK=10m go test -run TestSoak -v -timeout 30m ./cmd/fedgate/
func TestSoak(t *testing.T) {
	duration := soakDuration(t)
	var guestRole string
	// One identity makes every Cognito call here: lift its rate limit.
	e := startEnv(t, func(e *env) string {
		// One address starts every browser sign-in here: lift its budget.
		e.serverYAML += "  sign_in_rate_per_address: 1000\n  sign_in_burst_per_address: 1000\n"
		return strings.Replace(withCognitoPool(&guestRole)(e), "rate_per_identity: 1\n  burst_per_identity: 20", "rate_per_identity: 100000\n  burst_per_identity: 100000", 1)
	}, withAdmin)
	token := e.token("alice", e2eMobileClient, duration+10*time.Minute)
	login := strings.TrimPrefix(e.idp.Issuer, "http://")
	getID := postCognito(t, e.url+cognitoPath, "AWSCognitoIdentityService.GetId",
		`{"IdentityPoolId":"`+poolMobileID+`","Logins":{"`+login+`":"`+token+`"}}`)
	var id struct{ IdentityId string }
	getID.json(t, &id)
	cognito := func(op, body string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, e.url+cognitoPath, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+op)
			return req
		}
	}
	get := func(path string, header ...string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			return req
		}
	}
	is := func(codes ...int) func(int) bool {
		return func(s int) bool {
			for _, c := range codes {
				if s == c {
					return true
				}
			}
			return false
		}
	}
	vendAPI := func() *http.Request {
		req := e.vendRequest(token)()
		req.Body, req.ContentLength = nil, 0
		r, _ := http.NewRequest(http.MethodPost, e.url+"/api/v1/credentials", strings.NewReader(`{"pool":"mobile"}`))
		r.Header = req.Header
		return r
	}
	mix := []soakSurface{
		{"api vend", vendAPI, is(200)},
		{"cognito GetId", cognito("GetId", `{"IdentityPoolId":"`+poolMobileID+`","Logins":{"`+login+`":"`+token+`"}}`), is(200)},
		{"cognito GetCredentialsForIdentity", cognito("GetCredentialsForIdentity", `{"IdentityId":"`+id.IdentityId+`","Logins":{"`+login+`":"`+token+`"}}`), is(200)},
		{"admin pool", get("/admin/api/v1/pools/team", "Authorization", "Bearer "+e2eAdminToken), is(200)},
		{"sign-in start", get("/login/team/corp"), is(302, 303)},
		{"discovery", get("/.well-known/openid-configuration"), is(200)},
		{"jwks", get("/.well-known/jwks.json"), is(200)},
		{"healthz", get("/healthz"), is(200)},
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var n atomic.Int64
	next := func() soakSurface { return mix[int(n.Add(1))%len(mix)] }

	// Peak: 8 closed-loop workers for 3 s.
	var peakCount atomic.Int64
	peakEnd := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for time.Now().Before(peakEnd) {
				s := next()
				if o := do(client, s.req()); s.ok(o.status) {
					peakCount.Add(1)
				}
			}
		})
	}
	wg.Wait()
	peak := float64(peakCount.Load()) / 3
	rate := peak / 2

	// Half of peak, open loop: a ticker hands out requests; workers that
	// cannot keep up show as a backlog, not as a lower rate.
	var mu sync.Mutex
	var window []outcome
	failures := map[string]int{}
	total := 0
	jobs := make(chan soakSurface, 1024)
	var backlog atomic.Int64
	for range 32 {
		wg.Go(func() {
			for s := range jobs {
				o := do(client, s.req())
				mu.Lock()
				window = append(window, o)
				total++
				if !s.ok(o.status) {
					failures[fmt.Sprintf("%s: HTTP %d %s %v", s.name, o.status, o.code, o.err)]++
				}
				mu.Unlock()
			}
		})
	}
	browsers := 0
	stopBrowsers := make(chan struct{})
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopBrowsers:
				return
			case <-tick.C:
			}
			c := browser(t)
			cb := e.signIn(c, "team", "alice")
			if r := send(t, c, http.MethodGet, cb.String(), ""); r.status != http.StatusOK {
				mu.Lock()
				failures[fmt.Sprintf("browser sign-in: HTTP %d", r.status)]++
				mu.Unlock()
			}
			browsers++
		}
	})

	sampleEvery := max(duration/10, time.Second)
	type sample struct {
		at              time.Duration
		rss, goroutines float64
		p99             time.Duration
		requests        int
		storeBytes      int64
	}
	var samples []sample
	started := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	tick := time.NewTicker(interval)
	nextSample := started.Add(sampleEvery)
	for time.Since(started) < duration {
		<-tick.C
		select {
		case jobs <- next():
		default:
			backlog.Add(1)
		}
		if time.Now().After(nextSample) {
			nextSample = nextSample.Add(sampleEvery)
			mu.Lock()
			w := window
			window = nil
			mu.Unlock()
			m := scrapeMetrics(t, e.url)
			samples = append(samples, sample{time.Since(started).Round(time.Second), m["process_resident_memory_bytes"], m["go_goroutines"],
				percentile(w, 99), len(w), storeSize(e.dir)})
		}
	}
	tick.Stop()
	close(jobs)
	close(stopBrowsers)
	wg.Wait()

	var table strings.Builder
	fmt.Fprintf(&table, "peak %.0f req/s, soak at %.0f req/s for %s (%d requests, %d browser sign-ins, %d not sent: workers busy)\n",
		peak, rate, duration, total, browsers, backlog.Load())
	fmt.Fprintf(&table, "| t | RSS MiB | goroutines | p99 ms | requests | store KiB |\n|---|---|---|---|---|---|\n")
	for _, s := range samples {
		fmt.Fprintf(&table, "| %s | %.1f | %.0f | %.1f | %d | %d |\n", s.at, s.rss/(1<<20), s.goroutines, float64(s.p99.Microseconds())/1000, s.requests, s.storeBytes/1024)
	}
	t.Log("\n" + table.String())
	if len(failures) > 0 {
		t.Errorf("failed requests: %v", failures)
	}
	if len(samples) >= 4 {
		// After the first sample (warm-up), RSS and goroutines stay flat.
		first, last := samples[1], samples[len(samples)-1]
		if last.rss > first.rss*1.25+16<<20 {
			t.Errorf("RSS grew from %.1f to %.1f MiB", first.rss/(1<<20), last.rss/(1<<20))
		}
		if last.goroutines > first.goroutines+50 {
			t.Errorf("goroutines grew from %.0f to %.0f", first.goroutines, last.goroutines)
		}
	}
}

// scrapeMetrics reads the unlabelled gauges of fedgate's /metrics.
func scrapeMetrics(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out
}

// storeSize is the SQLite store's size on disk: the database and its WAL.
func storeSize(dir string) int64 {
	var n int64
	for _, f := range []string{"fedgate.db", "fedgate.db-wal"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err == nil {
			n += st.Size()
		}
	}
	return n
}
