package awssts

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
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
