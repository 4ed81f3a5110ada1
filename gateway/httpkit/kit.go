// Package httpkit is what every surface shares to speak HTTP: refusals as
// JSON or as pages, page rendering, cookies, same-origin checks, request
// ids, body decoding and rate limits.
package httpkit

import (
	"io"
	"log/slog"
	"net/url"

	"fedgate/web"
)

// Kit holds what responses need: the logger, the pages, and whether the
// public URL is https (cookies then carry __Host- and Secure).
type Kit struct {
	log           *slog.Logger
	pages         *web.Renderer
	rand          io.Reader
	secureCookies bool
	publicOrigin  string
}

// New builds a kit for a gateway served at publicURL.
func New(publicURL string, pages *web.Renderer, log *slog.Logger, rand io.Reader) (*Kit, error) {
	pub, err := url.Parse(publicURL)
	if err != nil {
		return nil, err
	}
	return &Kit{log: log, pages: pages, rand: rand, secureCookies: pub.Scheme == "https", publicOrigin: pub.Scheme + "://" + pub.Host}, nil
}

// SecureCookies tells whether the gateway is served over https.
func (s *Kit) SecureCookies() bool { return s.secureCookies }

// Log is the kit's logger, for lines outside a request.
func (s *Kit) Log() *slog.Logger { return s.log }
