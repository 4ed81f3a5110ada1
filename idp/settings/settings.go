// Package settings is what provider types share to describe their
// configuration: durations as people write them, problems found while
// validating, and the list of fields (with which of them are secrets) that
// the admin forms, the OpenAPI schema and redaction are built from.
package settings

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// Duration is a time.Duration written as "15m" or a number of seconds.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// DurationOr is *d, or def when d is unset: an explicit 0 stays 0.
func DurationOr(d *Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return d.D()
}

// UnmarshalText accepts "90s", "15m", "1h" or plain seconds.
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*d = Duration(time.Duration(n) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q (use e.g. 90s, 15m, 1h)", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the Go duration form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// MarshalJSON keeps durations readable in stored documents.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads what MarshalJSON wrote.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	return d.UnmarshalText([]byte(s))
}

// Problem is one thing wrong with a setting; Key is the setting's path
// below the provider entry ("issuer", "users[2].username"), or empty for
// the entry as a whole.
type Problem struct {
	Key, Message string
}

// Problems collects every problem of a configuration at once.
type Problems []Problem

// Add records a problem of key.
func (ps *Problems) Add(key, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

// CheckUpstreamURL reports a URL fedgate fetches from that is not https
// (plain http is allowed on loopback, for tests and local IdPs).
func (ps *Problems) CheckUpstreamURL(key, raw string) {
	if u, err := url.Parse(raw); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(u.Hostname()))) {
		ps.Add(key, "must be an https URL (http only on loopback)")
	}
}

// CheckClockSkew reports a clock skew outside 0..5m; nil is unset.
func (ps *Problems) CheckClockSkew(key string, d *Duration) {
	if d != nil && (d.D() < 0 || d.D() > 5*time.Minute) {
		ps.Add(key, "must be between 0 and 5m")
	}
}

// IsLoopback tells whether host names this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
