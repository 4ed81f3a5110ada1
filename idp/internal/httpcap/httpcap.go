// Package httpcap caps the response bodies an HTTP client reads from an
// upstream identity provider.
package httpcap

import (
	"errors"
	"io"
	"net/http"
)

// ErrBodyTooLarge is the read error of a body past its cap.
var ErrBodyTooLarge = errors.New("upstream response exceeds the size limit")

// Capped returns a copy of client whose response bodies fail once they
// exceed limit bytes, so a hostile or broken IdP cannot exhaust memory
// through discovery, JWKS, token or userinfo responses.
func Capped(client *http.Client, limit int64) *http.Client {
	capped := *client
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	capped.Transport = bodyLimitTransport{base: base, limit: limit}
	return &capped
}

type bodyLimitTransport struct {
	base  http.RoundTripper
	limit int64
}

func (t bodyLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{body: resp.Body, remaining: t.limit}
	return resp, nil
}

// limitedBody reads up to remaining bytes and then errors if the body has
// more, rather than silently truncating it.
type limitedBody struct {
	body      io.ReadCloser
	remaining int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.remaining <= 0 {
		var probe [1]byte
		n, err := b.body.Read(probe[:])
		if n > 0 {
			return 0, ErrBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.body.Read(p)
	b.remaining -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.body.Close() }
