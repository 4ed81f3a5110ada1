package awssts

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// countingConn counts the writes made on a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// A call's request (headers and body) leaves in one write, not in a
// write of the headers and another of the body.
func TestRequestGoesOutInOneWrite(t *testing.T) {
	fake := &switchableSTS{}
	fake.set(http.StatusOK, successXML)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	var writes atomic.Int64
	dialer := &net.Dialer{Timeout: time.Second}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: conn, writes: &writes}, nil
	}}}
	c, err := New(Options{Endpoint: srv.URL, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := c.AssumeRoleWithWebIdentity(context.Background(), webInput); err != nil {
			t.Fatal(err)
		}
		if got := writes.Load(); got != int64(i) {
			t.Fatalf("after %d calls, %d writes", i, got)
		}
	}
}
