// Package tlscert gives the public listener its certificate: from PEM
// files, re-read when they change so a rotation needs no restart, or from
// an ACME CA (golang.org/x/crypto/acme/autocert) with the account key and
// certificates kept, sealed, in the store that every replica shares.
package tlscert

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// Deps is what the certificate sources need from outside.
type Deps struct {
	Store store.EphemeralStore // the ACME cache
	Box   *secret.Box          // seals the ACME cache
	Log   *slog.Logger
	Now   func() time.Time
	// HTTPClient talks to the ACME CA; nil builds one (with ca_file).
	HTTPClient *http.Client
}

// ServerConfig is the public listener's TLS configuration for c, or nil
// when c serves plain HTTP. It offers HTTP/2 and HTTP/1.1, TLS 1.2 and up.
func ServerConfig(ctx context.Context, c config.TLS, d Deps) (*tls.Config, error) {
	switch c.Mode() {
	case "files":
		src, err := LoadFiles(c.CertFile, c.KeyFile, d.Log, d.Now)
		if err != nil {
			return nil, err
		}
		return &tls.Config{
			MinVersion:     tls.VersionTLS12,
			NextProtos:     []string{"h2", "http/1.1"},
			GetCertificate: src.GetCertificate,
		}, nil
	case "acme":
		return acmeConfig(ctx, *c.ACME, d)
	default:
		return nil, nil
	}
}

// describe names a certificate for logs: its subject names and expiry.
func describe(cert *tls.Certificate) []any {
	if cert == nil || cert.Leaf == nil {
		return nil
	}
	return []any{"names", cert.Leaf.DNSNames, "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339), "serial", fmt.Sprintf("%x", cert.Leaf.SerialNumber)}
}
