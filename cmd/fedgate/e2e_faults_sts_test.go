package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fedgate/cmd/fedgate/internal/peers"
)

// stsMode is what the STS stand-in does with a call.
type stsMode int32

const (
	stsPass        stsMode = iota // on to moto
	stsThrottle                   // 400 Throttling, as STS throttles
	stsUnavailable                // 503 ServiceUnavailable
)

// stsStandIn sits between toxiproxy and moto: it passes calls on, or
// answers them with the error bodies real STS sends when it throttles or
// fails, and counts every call that reaches it.
type stsStandIn struct {
	URL   string
	mode  atomic.Int32
	calls atomic.Int64
}

func startSTSStandIn(t *testing.T, upstream string) *stsStandIn {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	s := &stsStandIn{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		switch stsMode(s.mode.Load()) {
		case stsThrottle:
			stsErrorReply(w, http.StatusBadRequest, "Throttling", "Rate exceeded")
		case stsUnavailable:
			stsErrorReply(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable")
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *stsStandIn) set(m stsMode) { s.mode.Store(int32(m)) }

func stsErrorReply(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault-1</RequestId></ErrorResponse>`, code, msg)
}

// stsFaultTimeout is sts.timeout in the STS fault test: each of the three
// attempts gets a third of it.
const stsFaultTimeout = 2 * time.Second

// TestFaultsSTS: fedgate → toxiproxy → STS stand-in → moto. Throttling,
// 5xx, resets and a hung STS each give the caller a 503 with Retry-After
// (Cognito: TooManyRequestsException) within sts.timeout after bounded
// retries; a dead STS opens the circuit, which stops the calls and closes
// by itself once STS answers again. Last, SIGTERM under load
// (sigtermUnderLoad).
func TestFaultsSTS(t *testing.T) {
	var standIn *stsStandIn
	var proxy *peers.Proxy
	var guestRole string
	e := startEnv(t, withCognitoPool(&guestRole), func(e *env) string {
		standIn = startSTSStandIn(e.t, e.tap.URL)
		proxy = peers.StartToxiproxy(e.t).Proxy(e.t, "sts", "127.0.0.1:0", strings.TrimPrefix(standIn.URL, "http://"))
		e.stsURL, e.stsTimeout = proxy.URL(), stsFaultTimeout.String()
		e.serverYAML += "  shutdown_grace: " + shutdownGrace.String() + "\n"
		return ""
	})
	token := e.token("alice", e2eClientID, 15*time.Minute)
	client := loadClient(1)
	vend := e.vendRequest(token)
	healthy := func(t *testing.T) {
		t.Helper()
		standIn.set(stsPass)
		if o := do(client, vend()); o.status != http.StatusOK {
			t.Fatalf("healthy STS: %+v", o)
		}
	}
	healthy(t)
	guest := postCognito(t, e.url+cognitoPath, "AWSCognitoIdentityService.GetId", `{"IdentityPoolId":"`+poolMobileID+`"}`)
	var id struct{ IdentityId string }
	guest.json(t, &id)
	cognitoVend := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, e.url+cognitoPath, strings.NewReader(`{"IdentityId":"`+id.IdentityId+`"}`))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.GetCredentialsForIdentity")
		return req
	}
	if o := do(client, cognitoVend()); o.status != http.StatusOK {
		t.Fatalf("healthy Cognito vend: %+v", o)
	}

	for _, tc := range []struct {
		name     string
		inject   func(t *testing.T)
		heal     func(t *testing.T)
		code     string
		attempts int64 // calls reaching the stand-in; -1: toxiproxy stops them first
	}{
		{"throttling", func(*testing.T) { standIn.set(stsThrottle) }, nil, "sts_throttling", 3},
		{"5xx", func(*testing.T) { standIn.set(stsUnavailable) }, nil, "sts_service_unavailable", 3},
		{"connection reset", func(t *testing.T) {
			proxy.Toxic(t, "reset", "reset_peer", "upstream", map[string]any{"timeout": 0})
		}, func(t *testing.T) { proxy.RemoveToxic(t, "reset") }, "sts_network_error", -1},
		{"hung STS", func(t *testing.T) {
			proxy.Toxic(t, "hang", "timeout", "upstream", map[string]any{"timeout": 0})
		}, func(t *testing.T) { proxy.RemoveToxic(t, "hang") }, "sts_network_error", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := standIn.calls.Load()
			tc.inject(t)
			o := do(client, vend())
			calls := standIn.calls.Load() - before
			if tc.heal != nil {
				tc.heal(t)
			}
			if o.status != http.StatusServiceUnavailable || o.code != tc.code || o.retryAfter != "1" {
				t.Errorf("JSON API: HTTP %d %q Retry-After %q, want 503 %s with Retry-After 1", o.status, o.code, o.retryAfter, tc.code)
			}
			if o.took > stsFaultTimeout+time.Second {
				t.Errorf("the answer took %s; sts.timeout is %s", o.took, stsFaultTimeout)
			}
			if tc.attempts >= 0 && calls != tc.attempts {
				t.Errorf("STS got %d attempts, want %d", calls, tc.attempts)
			}
			if tc.name == "throttling" {
				standIn.set(stsThrottle)
				o := do(client, cognitoVend())
				if o.status != http.StatusBadRequest || o.code != "TooManyRequestsException" || o.retryAfter != "1" {
					t.Errorf("Cognito: HTTP %d %q Retry-After %q, want TooManyRequestsException", o.status, o.code, o.retryAfter)
				}
			}
			healthy(t) // also resets the circuit's count of failures in a row
		})
	}

	t.Run("circuit breaker", func(t *testing.T) {
		standIn.set(stsUnavailable)
		l := startLoad(4, vend)
		opened := waitFor(t, 10*time.Second, "circuit open", func() bool {
			outs := l.snapshot()
			return len(outs) > 0 && outs[len(outs)-1].code == "sts_circuit_open"
		})
		atOpen := standIn.calls.Load()
		time.Sleep(3 * time.Second) // inside the 5 s cooldown: no call may reach STS
		duringOpen := standIn.calls.Load() - atOpen
		standIn.set(stsPass)
		healedAt := time.Now()
		recovered := waitFor(t, 10*time.Second, "vends after STS came back", func() bool {
			outs := l.snapshot()
			return outs[len(outs)-1].status == http.StatusOK
		})
		time.Sleep(500 * time.Millisecond)
		outs := l.stop()
		if duringOpen != 0 {
			t.Errorf("an open circuit let %d calls through to STS within its cooldown", duringOpen)
		}
		if recovered > 5*time.Second+2*time.Second {
			t.Errorf("vends resumed %s after STS came back; the cooldown is 5s", recovered)
		}
		var open, ok int
		for _, o := range outs {
			switch {
			case o.status == http.StatusOK:
				ok++
			case o.status == http.StatusServiceUnavailable && o.code == "sts_circuit_open":
				open++
				if ra, _ := strconv.Atoi(o.retryAfter); ra != 5 {
					t.Errorf("open circuit Retry-After %q, want 5", o.retryAfter)
				}
			case o.status == http.StatusServiceUnavailable && o.code == "sts_service_unavailable" && o.retryAfter == "1":
			default:
				t.Errorf("unexpected answer under a dead STS: %+v", o)
			}
			if o.took > stsFaultTimeout+time.Second {
				t.Errorf("an answer took %s; sts.timeout is %s", o.took, stsFaultTimeout)
			}
		}
		if ok == 0 || open == 0 || !outs[len(outs)-1].at.After(healedAt) {
			t.Errorf("outcomes %v", summary(outs))
		}
		t.Logf("dead STS: circuit open after %s, %d calls reached STS before, 0 in the next 3 s; %d fast refusals; vends back %s after STS; answers %v, p99 %s",
			opened.Round(time.Millisecond), atOpen, open, recovered.Round(time.Millisecond), summary(outs), percentile(outs, 99))
	})
	t.Run("SIGTERM under load", func(t *testing.T) {
		standIn.set(stsPass)
		sigtermUnderLoad(t, e, proxy, token)
	})
}
