// Package client is the laptop side of fedgate: `fedgate login` (loopback
// with PKCE, or the device flow), credentials for the AWS tools from an
// encrypted cache (credential-process, env, exec, console), AWS config
// profiles (configure), and the person's CLI sessions (sessions, logout).
// It talks to a gateway's /cli endpoints; package main parses the flags.
package client

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Options are what the client takes from the process. Every field is
// required: tests give a fake clock, a seeded reader and a test server's
// HTTP client.
type Options struct {
	Stdin          io.Reader // passed on by Exec
	Stdout, Stderr io.Writer
	// Environ is the environment as KEY=value lines: HOME, XDG_CONFIG_HOME,
	// XDG_CACHE_HOME, AWS_CONFIG_FILE, BROWSER, DISPLAY, WAYLAND_DISPLAY
	// are read from it, and Exec passes it on.
	Environ []string
	// HTTP reaches the gateway and the AWS federation endpoint; it should
	// have a timeout. Requests to the gateway never follow a redirect,
	// whatever its CheckRedirect says: they carry the session's bearer token.
	HTTP    *http.Client
	Now     func() time.Time
	After   func(time.Duration) <-chan time.Time // waits: device polling, the cache lock
	Rand    io.Reader                            // PKCE verifier, state, cache key and nonces
	Version string                               // in the User-Agent
}

// Client runs the client subcommands. Its methods print progress and
// results; they return errors for package main to report.
type Client struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
	http           *http.Client
	gatewayHTTP    *http.Client
	now            func() time.Time
	after          func(time.Duration) <-chan time.Time
	rand           io.Reader
	userAgent      string
}

// New returns a client working with o.
func New(o Options) *Client {
	gatewayHTTP := *o.HTTP
	gatewayHTTP.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{
		stdin: o.Stdin, stdout: o.Stdout, stderr: o.Stderr, environ: o.Environ,
		http: o.HTTP, gatewayHTTP: &gatewayHTTP,
		now: o.Now, after: o.After, rand: o.Rand, userAgent: "fedgate-cli/" + o.Version,
	}
}

// getenv reads the environment as os.Getenv does: the first entry wins.
func (c *Client) getenv(name string) string {
	for _, kv := range c.environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// loginHint turns "no session" and "session refused" into the one thing to do.
func loginHint(gateway string, err error) error {
	var ge *gatewayError
	if errors.Is(err, errNoSession) || (errors.As(err, &ge) && ge.sessionInvalid()) {
		return fmt.Errorf("%v\nrun: fedgate login --gateway %s", err, gateway)
	}
	return err
}
