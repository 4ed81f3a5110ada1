// Package httpkit is what every surface shares to speak HTTP: refusals as
// JSON or as pages, page rendering, cookies, same-origin checks, request
// ids, body decoding and rate limits.
package httpkit

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"time"

	"fedgate/gateway/store"
	"fedgate/web"
)

// Kit holds what responses need: the logger, the pages, and whether the
// public URL is https (cookies then carry __Host- and Secure).
type Kit struct {
	log           *slog.Logger
	audit         func(context.Context, store.AuditEntry)
	anonRefusals  *RateLimiter
	pages         *web.Renderer
	rand          io.Reader
	secureCookies bool
	publicOrigin  string
}

// Options is what a kit is built from.
type Options struct {
	// PublicURL is where the gateway is served; https makes cookies
	// __Host- and Secure.
	PublicURL string
	Pages     *web.Renderer
	Log       *slog.Logger
	Rand      io.Reader
	Now       func() time.Time
	// Audit appends an entry to the audit log (core.Core.Audit).
	Audit func(context.Context, store.AuditEntry)
}

// New builds a kit.
func New(o Options) (*Kit, error) {
	pub, err := url.Parse(o.PublicURL)
	if err != nil {
		return nil, err
	}
	return &Kit{
		log: o.Log, pages: o.Pages, rand: o.Rand, audit: o.Audit,
		anonRefusals:  NewRateLimiter(anonRefusalsPerSecond, AnonRefusalsBurst, o.Now),
		secureCookies: pub.Scheme == "https", publicOrigin: pub.Scheme + "://" + pub.Host,
	}, nil
}

// SecureCookies tells whether the gateway is served over https.
func (s *Kit) SecureCookies() bool { return s.secureCookies }

// Log is the kit's logger, for lines outside a request.
func (s *Kit) Log() *slog.Logger { return s.log }
