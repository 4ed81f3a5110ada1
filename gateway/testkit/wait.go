package testkit

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// FreePort returns a loopback TCP port that nothing listens on right now,
// for a server that must know its own address before it starts.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// WaitHTTP polls u until it answers 200. It gives up after within, or as
// soon as exited yields (the server's process ended; nil never does).
func WaitHTTP(u string, within time.Duration, exited <-chan error) error {
	return WaitHTTPWith(http.DefaultClient, u, within, exited)
}

// WaitHTTPWith is WaitHTTP through c (for https with a test CA).
func WaitHTTPWith(c *http.Client, u string, within time.Duration, exited <-chan error) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited before %s answered: %v", u, err)
		default:
		}
		resp, err := c.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("HTTP %d", resp.StatusCode)
		} else {
			last = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %v: %v", u, within, last)
}

// Eventually calls done every interval until it reports true, for at most
// within; it says whether done ever did. done runs at least once.
func Eventually(within, interval time.Duration, done func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if done() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}
