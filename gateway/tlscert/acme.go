package tlscert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// cacheKind is the store's kind for the ACME cache's entries.
const cacheKind = "acme-cache"

// cacheTTL is how long a cached entry lives in the store. Certificates are
// renewed long before (autocert renews 30 days ahead of expiry); an
// account key older than this is replaced by a new account.
const cacheTTL = 400 * 24 * time.Hour

func acmeConfig(_ context.Context, c config.ACME, d Deps) (*tls.Config, error) {
	if d.Store == nil || d.Box == nil {
		return nil, errors.New("server.tls.acme: needs the store and the master key")
	}
	hc := d.HTTPClient
	if hc == nil {
		var err error
		if hc, err = acmeHTTPClient(c.CAFile); err != nil {
			return nil, err
		}
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      &StoreCache{Store: d.Store, Box: d.Box, Now: d.Now},
		HostPolicy: autocert.HostWhitelist(c.Hosts...),
		Email:      c.Contact,
		Client:     &acme.Client{DirectoryURL: c.DirectoryURL, HTTPClient: hc, UserAgent: "fedgate"},
	}
	tc := m.TLSConfig() // NextProtos: h2, http/1.1 and acme-tls/1 for the challenge
	tc.MinVersion = tls.VersionTLS12
	get := tc.GetCertificate
	tc.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		cert, err := get(hello)
		if err != nil {
			// autocert's errors say which host and why (policy, CA refusal);
			// the handshake fails either way.
			d.Log.Warn("no ACME certificate for a TLS handshake", "server_name", hello.ServerName, "error", err)
		}
		return cert, err
	}
	return tc, nil
}

// acmeHTTPClient talks to the ACME CA: bounded in time, trusting caFile's
// certificates when set (a private ACME CA).
func acmeHTTPClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("server.tls.acme.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("server.tls.acme.ca_file: %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// Sealer encrypts the cache's entries (secret.Box).
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// StoreCache is autocert.Cache in the store's short-lived entries, sealed
// with the master key and bound to their name: the account key and the
// certificates' private keys are secrets, and every replica reads the same
// ones, so a certificate is ordered once, not once per replica.
type StoreCache struct {
	Store store.EphemeralStore
	Box   Sealer
	Now   func() time.Time
}

var _ autocert.Cache = (*StoreCache)(nil)

func cacheAAD(name string) []byte { return []byte(cacheKind + "\x00" + name) }

// Get is autocert.Cache.Get.
func (c *StoreCache) Get(ctx context.Context, name string) ([]byte, error) {
	sealed, err := c.Store.GetEphemeral(ctx, cacheKind, name, c.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, autocert.ErrCacheMiss
	}
	if err != nil {
		return nil, err
	}
	b, err := c.Box.Open(sealed, cacheAAD(name))
	if err != nil {
		return nil, fmt.Errorf("ACME cache entry %s does not open with this master key: %w", name, err)
	}
	return b, nil
}

// Put is autocert.Cache.Put: it replaces the entry.
func (c *StoreCache) Put(ctx context.Context, name string, data []byte) error {
	sealed, err := c.Box.Seal(data, cacheAAD(name))
	if err != nil {
		return err
	}
	// The store refuses to overwrite a live entry; delete, then put. When
	// another replica puts in between, its entry is as good as ours.
	for range 3 {
		if err := c.Store.DeleteEphemeral(ctx, cacheKind, name); err != nil {
			return err
		}
		err = c.Store.PutEphemeral(ctx, cacheKind, name, sealed, c.Now().Add(cacheTTL))
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return nil
}

// Delete is autocert.Cache.Delete.
func (c *StoreCache) Delete(ctx context.Context, name string) error {
	return c.Store.DeleteEphemeral(ctx, cacheKind, name)
}
