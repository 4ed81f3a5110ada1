package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Bounds on what one invocation may ask for: a load run is always finite.
const (
	maxRequests    = 1_000_000
	maxConcurrency = 256
	maxWarmup      = 1_000
	maxBodyBytes   = 1 << 20 // a request body in the plan
	maxPlanBytes   = 4 << 20 // the plan file
	maxTargets     = 32
)

var errNotLoopback = errors.New("not a loopback address")

// Target is one endpoint to load: a request sent again and again.
type Target struct {
	Name    string            `json:"name"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"` // may carry a token: never printed
	Expect  int               `json:"expect,omitempty"`
}

// Plan is the targets of one run; the first is the baseline the others are
// compared with.
type Plan struct {
	Targets []Target `json:"targets"`
}

// checkLoopbackURL accepts only http(s) URLs whose host is a loopback IP
// literal (127.0.0.0/8 or ::1). Host names are refused, even localhost:
// what a name resolves to is not this program's to trust.
func checkLoopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	if u.User != nil {
		return nil, errors.New("user info is not allowed in the URL")
	}
	if u.Fragment != "" {
		return nil, errors.New("a fragment is not allowed in the URL")
	}
	host := u.Hostname()
	if host == "" {
		return nil, errors.New("the URL has no host")
	}
	if err := checkLoopbackHost(host); err != nil {
		return nil, err
	}
	return u, nil
}

// checkLoopbackHost accepts 127.0.0.0/8 and ::1 (also as ::ffff:127.x.y.z),
// without an IPv6 zone.
func checkLoopbackHost(host string) error {
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("host %q: %w: use an IP literal such as 127.0.0.1 or [::1]", host, errNotLoopback)
	}
	if addr.Zone() != "" {
		return fmt.Errorf("host %q: an IPv6 zone is not allowed", host)
	}
	if !addr.Unmap().IsLoopback() {
		return fmt.Errorf("host %s: %w (only 127.0.0.0/8 and ::1 may be loaded)", addr, errNotLoopback)
	}
	return nil
}

// checkDialAddress is the last guard, on the address actually dialled.
func checkDialAddress(address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	return checkLoopbackHost(host)
}

var allowedMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true,
	http.MethodPut: true, http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// validate fills in defaults and reports every problem of the plan at once.
func (p *Plan) validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(p.Targets) == 0 {
		add("the plan has no targets")
	}
	if len(p.Targets) > maxTargets {
		add("the plan has %d targets; at most %d", len(p.Targets), maxTargets)
	}
	seen := map[string]bool{}
	for i := range p.Targets {
		t := &p.Targets[i]
		where := fmt.Sprintf("targets[%d]", i)
		if t.Name == "" {
			add("%s.name: required", where)
		} else if seen[t.Name] {
			add("%s.name: %q is used twice", where, t.Name)
		}
		seen[t.Name] = true
		if t.Method == "" {
			t.Method = http.MethodGet
		}
		t.Method = strings.ToUpper(t.Method)
		if !allowedMethods[t.Method] {
			add("%s.method: %q is not an HTTP method this tool sends", where, t.Method)
		}
		if _, err := checkLoopbackURL(t.URL); err != nil {
			add("%s.url: %v", where, err)
		}
		if t.Expect == 0 {
			t.Expect = http.StatusOK
		}
		if t.Expect < 100 || t.Expect > 599 {
			add("%s.expect: %d is not an HTTP status", where, t.Expect)
		}
		if len(t.Body) > maxBodyBytes {
			add("%s.body: %d bytes; at most %d", where, len(t.Body), maxBodyBytes)
		}
		for k := range t.Headers {
			if k == "" || strings.ContainsAny(k, " :\r\n") {
				add("%s.headers: %q is not a header name", where, k)
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid plan:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// parsePlan reads a JSON plan, refusing unknown fields and trailing data.
func parsePlan(raw []byte) (*Plan, error) {
	if len(raw) > maxPlanBytes {
		return nil, fmt.Errorf("plan is %d bytes; at most %d", len(raw), maxPlanBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if dec.More() {
		return nil, errors.New("plan: trailing data after the JSON object")
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}
