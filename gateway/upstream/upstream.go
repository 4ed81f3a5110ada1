// Package upstream is the HTTP client for the requests an admin can aim:
// OIDC discovery, JWKS, token and userinfo endpoints, SAML metadata. Its
// dialer refuses the addresses of the gateway's own network (loopback,
// private, link-local, CGNAT, multicast, unspecified and reserved ranges,
// also when written as IPv4-mapped or NAT64 IPv6) after DNS resolution, on
// every connection and so on every redirect hop, unless the operator
// allowed them by CIDR (server.allow_upstream_cidrs).
package upstream

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// AllowKey is the configuration key that allows refused addresses.
const AllowKey = "server.allow_upstream_cidrs"

// Defaults of the client: one upstream call is bounded in time, and a
// chain of redirects is short.
const (
	DefaultTimeout = 10 * time.Second
	maxRedirects   = 5
)

// RefusedAddressError is a connection the dialer would not open. Its
// message names the address and the key that allows it, and says nothing
// else about the network.
type RefusedAddressError struct {
	Addr   netip.Addr
	Reason string // which range it is in, e.g. "private (RFC 1918)"
}

func (e *RefusedAddressError) Error() string {
	return fmt.Sprintf("upstream address %s is not allowed; add it to %s", e.Addr, AllowKey)
}

// ErrRefusedAddress matches every *RefusedAddressError with errors.Is.
var ErrRefusedAddress = errors.New("upstream address not allowed")

// Is makes errors.Is(err, ErrRefusedAddress) true.
func (e *RefusedAddressError) Is(target error) bool { return target == ErrRefusedAddress }

// AsRefused finds a refused address in err's chain.
func AsRefused(err error) (*RefusedAddressError, bool) {
	var re *RefusedAddressError
	ok := errors.As(err, &re)
	return re, ok
}

// Policy decides which addresses the client may connect to.
type Policy struct {
	allow []netip.Prefix
}

// NewPolicy parses the allowed CIDRs (a bare address is a /32 or /128).
func NewPolicy(cidrs []string) (*Policy, error) {
	p := &Policy{}
	for _, c := range cidrs {
		pfx, err := ParseCIDR(c)
		if err != nil {
			return nil, err
		}
		p.allow = append(p.allow, pfx)
	}
	return p, nil
}

// ParseCIDR reads one entry of the allow list: a CIDR or a bare address.
func ParseCIDR(s string) (netip.Prefix, error) {
	if pfx, err := netip.ParsePrefix(s); err == nil {
		if pfx.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: a CIDR cannot carry a zone", s)
		}
		return pfx.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Check returns nil when the client may connect to a, or the refusal.
// An allowed CIDR is compared with the address as written and with its
// IPv4 form, so 127.0.0.0/8 also allows ::ffff:127.0.0.1.
func (p *Policy) Check(a netip.Addr) error {
	reason, refused := Classify(a)
	if !refused {
		return nil
	}
	plain := a.WithZone("")
	for _, pfx := range p.allow {
		if pfx.Contains(plain) || pfx.Contains(plain.Unmap()) {
			return nil
		}
	}
	return &RefusedAddressError{Addr: plain, Reason: reason}
}

// refusedRanges are the IPv4 ranges beyond what netip classifies itself.
var refusedRanges = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this network (0.0.0.0/8)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT, RFC 6598)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (192.0.0.0/24)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (198.18.0.0/15)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"}, // and the broadcast address
	{netip.MustParsePrefix("fec0::/10"), "site-local (fec0::/10)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 (64:ff9b:1::/48)"},
}

// nat64 is the well-known NAT64 prefix (RFC 6052): its last 32 bits are
// an IPv4 address that a NAT64 gateway connects to.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Classify says whether a is an address of the gateway's own network
// that an upstream request must not reach, and which range it is in.
// IPv6 forms of an IPv4 address (mapped ::ffff:a.b.c.d, compatible
// ::a.b.c.d, NAT64 64:ff9b::a.b.c.d) are judged by the IPv4 address.
func Classify(a netip.Addr) (reason string, refused bool) {
	if !a.IsValid() {
		return "invalid address", true
	}
	a = a.WithZone("")
	if a.Is6() && !a.Is4In6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return classify4(netip.AddrFrom4([4]byte(b[12:])))
		case a.IsUnspecified(), a.IsLoopback():
		case isZero(b[:12]):
			// IPv4-compatible (::a.b.c.d, deprecated): an IPv4 address.
			return classify4(netip.AddrFrom4([4]byte(b[12:])))
		}
	}
	return classify4(a.Unmap())
}

func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

func classify4(a netip.Addr) (string, bool) {
	switch {
	case a.IsUnspecified():
		return "unspecified", true
	case a.IsLoopback():
		return "loopback", true
	case a.IsPrivate():
		if a.Is4() {
			return "private (RFC 1918)", true
		}
		return "unique local (fc00::/7)", true
	case a.IsLinkLocalUnicast():
		return "link-local", true
	case a.IsMulticast():
		return "multicast", true
	}
	for _, r := range refusedRanges {
		if r.prefix.Contains(a) {
			return r.reason, true
		}
	}
	return "", false
}

// control is the dialer's check, run on the resolved address of every
// connection attempt before it connects.
func (p *Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("upstream dial: unexpected address %q", address)
	}
	return p.Check(ap.Addr())
}

// Options configure the client.
type Options struct {
	// AllowCIDRs are refused addresses the operator allows
	// (server.allow_upstream_cidrs).
	AllowCIDRs []string
	// Timeout bounds one request, redirects included (default 10s).
	Timeout time.Duration
}

// NewClient builds the upstream client: the address policy in its dialer,
// a timeout, at most five redirects and never from https to http (what it
// fetches is a trust anchor). A proxy from the environment (HTTPS_PROXY)
// is still used; the policy then applies to the proxy's address, and the
// proxy's own rules to where it connects.
func NewClient(o Options) (*http.Client, error) {
	p, err := NewPolicy(o.AllowCIDRs)
	if err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second, Control: p.control}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   o.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Timeout: o.Timeout, Transport: transport, CheckRedirect: checkRedirect}, nil
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errors.New("too many redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("refusing a redirect from https to %s", req.URL.Scheme)
	}
	return nil
}
