package awssts

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"fedgate/exchange"
)

var webInput = exchange.WebIdentityInput{RoleARN: "arn:aws:iam::123456789012:role/dev", Token: "t.t.t", SessionName: "s"}

// switchableSTS answers with whatever reply is current, so a test can take
// STS down and bring it back.
type switchableSTS struct {
	current  atomic.Pointer[reply]
	attempts atomic.Int64
}

func (s *switchableSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.attempts.Add(1)
	rep := s.current.Load()
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(rep.status)
	_, _ = w.Write([]byte(rep.body))
}

func (s *switchableSTS) set(status int, body string) { s.current.Store(&reply{status, body}) }

func stsError(err error) *exchange.STSError {
	var se *exchange.STSError
	if errors.As(err, &se) {
		return se
	}
	return nil
}

func TestHungSTSAnswersWithinTheBudget(t *testing.T) {
	release := make(chan struct{})
	var attempts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	const budget = 600 * time.Millisecond
	c, err := New(Options{Endpoint: srv.URL, Timeout: budget})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.AssumeRoleWithWebIdentity(context.Background(), webInput)
	took := time.Since(start)
	se := stsError(err)
	if se == nil || !se.Outage || se.Status != http.StatusServiceUnavailable {
		t.Fatalf("error %v, want a 503 outage", err)
	}
	// Each attempt gets a third of the budget, so all three run before it ends.
	if took > budget+300*time.Millisecond {
		t.Fatalf("call took %s with a budget of %s", took, budget)
	}
	if n := attempts.Load(); n < 2 || n > defaultMaxAttempts {
		t.Fatalf("%d attempts, want 2..%d", n, defaultMaxAttempts)
	}
}

func TestBreakerStopsCallingADeadSTSAndRecoversByItself(t *testing.T) {
	fake := &switchableSTS{}
	fake.set(http.StatusServiceUnavailable, errorXML("ServiceUnavailable"))
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	const cooldown = 300 * time.Millisecond
	c, err := New(Options{Endpoint: srv.URL, MaxAttempts: 2, MaxBackoff: time.Millisecond, BreakerFailures: 3, BreakerCooldown: cooldown})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, err := c.AssumeRoleWithWebIdentity(context.Background(), webInput)
		if se := stsError(err); se == nil || se.Code != exchange.CodeUnavailable {
			t.Fatalf("call %d: %v, want ServiceUnavailable", i, err)
		}
	}
	if n := fake.attempts.Load(); n != 6 {
		t.Fatalf("%d attempts for 3 calls of 2 attempts", n)
	}
	for range 20 {
		_, err := c.AssumeRoleWithWebIdentity(context.Background(), webInput)
		se := stsError(err)
		if se == nil || se.Code != exchange.CodeCircuitOpen || se.Status != http.StatusServiceUnavailable || se.RetryAfter != cooldown {
			t.Fatalf("open circuit: %v (%+v)", err, se)
		}
	}
	if n := fake.attempts.Load(); n != 6 {
		t.Fatalf("an open circuit still reached STS: %d attempts", n)
	}

	fake.set(http.StatusOK, successXML)
	deadline := time.Now().Add(10 * cooldown)
	for {
		_, err := c.AssumeRoleWithWebIdentity(context.Background(), webInput)
		if err == nil {
			break
		}
		if se := stsError(err); se == nil || se.Code != exchange.CodeCircuitOpen || time.Now().After(deadline) {
			t.Fatalf("after STS came back: %v", err)
		}
		time.Sleep(cooldown / 10)
	}
	if n := fake.attempts.Load(); n != 7 {
		t.Fatalf("recovery took %d probe attempts, want 1", n-6)
	}
	for range 5 {
		if _, err := c.AssumeRoleWithWebIdentity(context.Background(), webInput); err != nil {
			t.Fatalf("closed circuit: %v", err)
		}
	}
}

func TestRefusalsAndHangupsDoNotOpenTheBreaker(t *testing.T) {
	fake := &switchableSTS{}
	fake.set(http.StatusForbidden, errorXML("AccessDenied"))
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c, err := New(Options{Endpoint: srv.URL, BreakerFailures: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		_, err := c.AssumeRoleWithWebIdentity(context.Background(), webInput)
		if se := stsError(err); se == nil || se.Code != exchange.CodeAccessDenied {
			t.Fatalf("%v, want AccessDenied every time", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 5 {
		if _, err := c.AssumeRoleWithWebIdentity(ctx, webInput); err == nil {
			t.Fatal("a cancelled call succeeded")
		}
	}
	fake.set(http.StatusOK, successXML)
	if _, err := c.AssumeRoleWithWebIdentity(context.Background(), webInput); err != nil {
		t.Fatalf("refusals or hang-ups opened the circuit: %v", err)
	}
}

func TestRegionalEndpointByDefault(t *testing.T) {
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		ep, err := sts.NewDefaultEndpointResolverV2().ResolveEndpoint(context.Background(), sts.EndpointParameters{Region: &region})
		if err != nil {
			t.Fatal(err)
		}
		if want := "https://sts." + region + ".amazonaws.com"; ep.URI.String() != want {
			t.Errorf("region %s resolves to %s, want %s", region, ep.URI.String(), want)
		}
	}
}

// BenchmarkConcurrentCalls makes calls from 16 goroutines and reports how
// many new connections a call opened: Go's default transport keeps 2 idle
// connections per host, the pooled one as many as the concurrency.
func BenchmarkConcurrentCalls(b *testing.B) {
	for _, tc := range []struct {
		name   string
		client func() *http.Client
	}{
		{"transport=go-default", func() *http.Client { return &http.Client{Timeout: 10 * time.Second} }},
		{"transport=pooled", func() *http.Client { return nil }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			fake := &switchableSTS{}
			fake.set(http.StatusOK, successXML)
			srv := httptest.NewUnstartedServer(fake)
			var conns atomic.Int64
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			c, err := New(Options{Endpoint: srv.URL, HTTPClient: tc.client()})
			if err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.AssumeRoleWithWebIdentity(context.Background(), webInput); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(conns.Load())/float64(b.N), "new-conns/call")
		})
	}
}

func TestPooledTransportKeepsConnectionsAndSpeaksHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Proto))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := NewHTTPClient(64, time.Second)
	tr := client.Transport.(*http.Transport)
	if tr.MaxIdleConnsPerHost != 64 || tr.MaxIdleConns < 64 || tr.IdleConnTimeout == 0 {
		t.Fatalf("idle connections: per host %d, total %d, timeout %s", tr.MaxIdleConnsPerHost, tr.MaxIdleConns, tr.IdleConnTimeout)
	}
	tr.TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("protocol %s, want HTTP/2 where the endpoint offers it", resp.Proto)
	}
}
