package awssts

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// NewHTTPClient is the pooled client STS calls share: concurrency idle
// connections kept per host (Go's default of 2 makes most calls under load
// open a new connection), TCP keep-alive, HTTP/2 when the endpoint offers
// it over TLS, and attemptTimeout for each attempt.
func NewHTTPClient(concurrency int, attemptTimeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: min(attemptTimeout, 5*time.Second), KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: attemptTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          concurrency,
			MaxIdleConnsPerHost:   concurrency,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   min(attemptTimeout, 5*time.Second),
			ExpectContinueTimeout: time.Second,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		},
	}
}

// maxBufferedBody bounds the request bodies oneWrite holds in memory; an
// AssumeRoleWith* call is a token or an assertion, well under it.
const maxBufferedBody = 1 << 20

// oneWrite sends each request's headers and body in one write. net/http
// flushes the headers of a body it cannot tell is in memory before copying
// the body, and the SDK's body is such a wrapper, so every call cost two
// writes (two packets, two wake-ups at STS). A body read into a
// bytes.Reader goes out with the headers, and can be sent again if a kept
// connection turns out closed.
type oneWrite struct{ client sts.HTTPClient }

func (c oneWrite) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.ContentLength <= 0 || req.ContentLength > maxBufferedBody {
		return c.client.Do(req)
	}
	body := make([]byte, req.ContentLength)
	if _, err := io.ReadFull(req.Body, body); err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	// A shallow copy: the SDK closes the body it made once Do returns.
	r := *req
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return c.client.Do(&r)
}
