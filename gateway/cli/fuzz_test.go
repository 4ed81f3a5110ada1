package cli

import (
	"net"
	"net/url"
	"testing"
)

// FuzzParseLoopbackRedirect: whatever is accepted is plain http to the
// literal loopback address with a port, and stays so once the code and
// state are added (so the browser is never sent anywhere else).
func FuzzParseLoopbackRedirect(f *testing.F) {
	for _, seed := range []string{
		"http://127.0.0.1:8080/callback", "http://[::1]:1/", "http://127.0.0.1:80?x=1", "http://localhost:1/",
		"http://127.0.0.1:8080@evil.example/", "http://127.0.0.1:8080\\@evil.example/", "http://127.0.0.1:8080/%2F%2Fevil",
		"http://127.0.0.1:8080#x", "http://[::1%25eth0]:1/", "HTTP://127.0.0.1:1/", "http://127.0.0.1:1/\r\nX: y",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, ok := parseLoopbackRedirect(raw)
		if !ok {
			return
		}
		final, err := url.Parse(withQuery(u, url.Values{"code": {"c"}, "state": {"s"}}))
		if err != nil {
			t.Fatalf("accepted %q but the redirect does not parse: %v", raw, err)
		}
		host, port, err := net.SplitHostPort(final.Host)
		if final.Scheme != "http" || err != nil || (host != "127.0.0.1" && host != "::1") || port == "" || final.User != nil {
			t.Fatalf("accepted %q, which redirects to %q", raw, final)
		}
		if final.Query().Get("code") != "c" || final.Query().Get("state") != "s" {
			t.Fatalf("accepted %q, but the code does not survive: %q", raw, final)
		}
	})
}
