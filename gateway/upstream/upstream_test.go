package upstream

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr    string
		refused bool
		reason  string
	}{
		// IPv4
		{"8.8.8.8", false, ""},
		{"93.184.216.34", false, ""},
		{"127.0.0.1", true, "loopback"},
		{"127.255.255.254", true, "loopback"},
		{"10.0.0.5", true, "private (RFC 1918)"},
		{"172.16.0.1", true, "private (RFC 1918)"},
		{"172.31.255.255", true, "private (RFC 1918)"},
		{"172.32.0.1", false, ""},
		{"192.168.1.1", true, "private (RFC 1918)"},
		{"169.254.169.254", true, "link-local"},
		{"100.64.0.1", true, "shared address space (CGNAT, RFC 6598)"},
		{"100.127.255.255", true, "shared address space (CGNAT, RFC 6598)"},
		{"100.128.0.1", false, ""},
		{"0.0.0.0", true, "unspecified"},
		{"0.1.2.3", true, "this network (0.0.0.0/8)"},
		{"224.0.0.1", true, "multicast"},
		{"239.255.255.250", true, "multicast"},
		{"255.255.255.255", true, "reserved (240.0.0.0/4)"},
		{"240.0.0.1", true, "reserved (240.0.0.0/4)"},
		{"198.18.0.1", true, "benchmarking (198.18.0.0/15)"},
		{"192.0.0.8", true, "IETF protocol assignments (192.0.0.0/24)"},
		// IPv6
		{"2606:4700:4700::1111", false, ""},
		{"::1", true, "loopback"},
		{"::", true, "unspecified"},
		{"fc00::1", true, "unique local (fc00::/7)"},
		{"fd12:3456:789a::1", true, "unique local (fc00::/7)"},
		{"fe80::1", true, "link-local"},
		{"fe80::1%eth0", true, "link-local"},
		{"fe80::abcd%2", true, "link-local"},
		{"fec0::1", true, "site-local (fec0::/10)"},
		{"ff02::1", true, "multicast"},
		{"ff05::1%eth0", true, "multicast"},
		// IPv6 forms of IPv4 addresses are judged as the IPv4 address.
		{"::ffff:127.0.0.1", true, "loopback"},
		{"::ffff:10.0.0.5", true, "private (RFC 1918)"},
		{"::ffff:169.254.169.254", true, "link-local"},
		{"::ffff:100.64.0.1", true, "shared address space (CGNAT, RFC 6598)"},
		{"::ffff:0.0.0.0", true, "unspecified"},
		{"::ffff:8.8.8.8", false, ""},
		{"::127.0.0.1", true, "loopback"},
		{"::10.0.0.5", true, "private (RFC 1918)"},
		{"64:ff9b::a9fe:a9fe", true, "link-local"},
		{"64:ff9b::7f00:1", true, "loopback"},
		{"64:ff9b::808:808", false, ""},
		{"64:ff9b:1::1", true, "local-use NAT64 (64:ff9b:1::/48)"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			reason, refused := Classify(netip.MustParseAddr(tt.addr))
			if refused != tt.refused || reason != tt.reason {
				t.Errorf("Classify(%s) = %q, %v; want %q, %v", tt.addr, reason, refused, tt.reason, tt.refused)
			}
		})
	}
	if _, refused := Classify(netip.Addr{}); !refused {
		t.Error("the zero Addr is not refused")
	}
}

func TestPolicyAllowList(t *testing.T) {
	p, err := NewPolicy([]string{"127.0.0.0/8", "::1/128", "10.1.2.3", "fd00:1::/32"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1", true},
		{"::ffff:127.0.0.1", true}, // mapped form of an allowed address
		{"::1", true},
		{"10.1.2.3", true},
		{"10.1.2.4", false},
		{"fd00:1::5", true},
		{"fd00:2::5", false},
		{"169.254.169.254", false},
		{"fe80::1%lo", false},
		{"8.8.8.8", true}, // public: never refused
	}
	for _, tt := range tests {
		err := p.Check(netip.MustParseAddr(tt.addr))
		if (err == nil) != tt.allowed {
			t.Errorf("Check(%s) = %v, want allowed=%v", tt.addr, err, tt.allowed)
		}
		if err != nil {
			if !errors.Is(err, ErrRefusedAddress) {
				t.Errorf("Check(%s): %v does not match ErrRefusedAddress", tt.addr, err)
			}
			if want := "is not allowed; add it to server.allow_upstream_cidrs"; !strings.Contains(err.Error(), want) {
				t.Errorf("Check(%s) = %q, want it to say %q", tt.addr, err, want)
			}
		}
	}
}

func TestParseCIDR(t *testing.T) {
	for _, good := range []string{"127.0.0.0/8", "10.0.0.5", "::1/128", "::1", "fd00::/8", "10.0.0.5/8"} {
		if _, err := ParseCIDR(good); err != nil {
			t.Errorf("ParseCIDR(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"", "localhost", "10.0.0.0/33", "fe80::1%eth0", "fe80::/10%eth0", "10.0.0.0/8/8"} {
		if _, err := ParseCIDR(bad); err == nil {
			t.Errorf("ParseCIDR(%q) accepted", bad)
		}
	}
	if _, err := NewClient(Options{AllowCIDRs: []string{"nonsense"}}); err == nil {
		t.Error("NewClient accepted an invalid CIDR")
	}
}

// idp is a real HTTP server on 127.0.0.1 that counts its requests.
func idp(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"issuer":"x"}`) }

func mustClient(t *testing.T, allow ...string) *http.Client {
	t.Helper()
	c, err := NewClient(Options{AllowCIDRs: allow})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantRefused checks that err is the dialer's refusal of addr, and that
// the server was never reached.
func wantRefused(t *testing.T, err error, addr string, hits *atomic.Int64, before int64) {
	t.Helper()
	re, ok := AsRefused(err)
	if !ok {
		t.Fatalf("err = %v, want a refused upstream address", err)
	}
	if re.Addr.String() != addr {
		t.Errorf("refused address %s, want %s", re.Addr, addr)
	}
	if want := "upstream address " + addr + " is not allowed; add it to server.allow_upstream_cidrs"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
	if hits != nil && hits.Load() != before {
		t.Errorf("the refused server got %d requests", hits.Load()-before)
	}
}

// An issuer on a loopback port is refused without the allowance: the
// connection is never opened.
func TestLoopbackIssuerRefusedWithoutAllowance(t *testing.T) {
	srv, hits := idp(t, ok)
	_, err := mustClient(t).Get(srv.URL + "/.well-known/openid-configuration")
	wantRefused(t, err, "127.0.0.1", hits, 0)
}

// A name that looks public but resolves to loopback is judged by the
// address it resolves to, after DNS.
func TestNameResolvingToLoopbackRefused(t *testing.T) {
	srv, hits := idp(t, ok)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	_, err := mustClient(t).Get("http://localhost:" + port + "/.well-known/openid-configuration")
	re, isRefused := AsRefused(err)
	if !isRefused || !re.Addr.IsLoopback() {
		t.Fatalf("localhost: err = %v, want a refused loopback address", err)
	}
	if hits.Load() != 0 {
		t.Errorf("the server behind localhost got %d requests", hits.Load())
	}
}

// An allowed IdP that redirects to the cloud metadata address is
// refused on the hop: every connection is checked, not only the first.
func TestRedirectToMetadataAddressRefusedOnTheHop(t *testing.T) {
	for _, target := range []string{"http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/latest/meta-data/", "http://10.0.0.5/"} {
		srv, hits := idp(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusFound) })
		_, err := mustClient(t, "127.0.0.0/8", "::1/128").Get(srv.URL + "/.well-known/openid-configuration")
		want := "169.254.169.254"
		if strings.Contains(target, "10.0.0.5") {
			want = "10.0.0.5"
		}
		wantRefused(t, err, want, nil, 0)
		if hits.Load() != 1 {
			t.Errorf("%s: the allowed IdP got %d requests, want 1", target, hits.Load())
		}
	}
}

// Inside an allowed CIDR the client works as any client does.
func TestAllowedCIDRWorks(t *testing.T) {
	srv, hits := idp(t, ok)
	for _, allow := range [][]string{{"127.0.0.0/8"}, {"127.0.0.1"}, {"127.0.0.1/32", "::1/128"}} {
		resp, err := mustClient(t, allow...).Get(srv.URL + "/x")
		if err != nil {
			t.Fatalf("allow %v: %v", allow, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "issuer") {
			t.Errorf("allow %v: %d %s", allow, resp.StatusCode, b)
		}
	}
	if hits.Load() != 3 {
		t.Errorf("hits = %d, want 3", hits.Load())
	}
	// A neighbouring CIDR does not allow it.
	_, err := mustClient(t, "127.0.0.2/32").Get(srv.URL + "/x")
	wantRefused(t, err, "127.0.0.1", hits, 3)
}

// The client never follows a redirect from https down to plain http:
// metadata and keys are trust anchors.
func TestRefusesDowngradeRedirects(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<EntityDescriptor/>")) }))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/same" {
			_, _ = w.Write([]byte("ok"))
			return
		}
		http.Redirect(w, r, plain.URL+"/metadata", http.StatusFound)
	}))
	defer secure.Close()
	c := mustClient(t, "127.0.0.0/8")
	c.Transport.(*http.Transport).TLSClientConfig = secure.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	if _, err := c.Get(secure.URL + "/metadata"); err == nil || !strings.Contains(err.Error(), "https to http") {
		t.Errorf("https -> http redirect: err = %v, want a refusal", err)
	}
	resp, err := c.Get(secure.URL + "/same")
	if err != nil {
		t.Fatalf("plain https fetch: %v", err)
	}
	resp.Body.Close()
}
