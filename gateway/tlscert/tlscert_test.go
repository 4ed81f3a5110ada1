package tlscert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
	"fedgate/gateway/testkit"
)

// writeAtomically replaces path the way a deploy tool does: a new file,
// renamed over the old one.
func writeAtomically(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// serveFiles serves https with the files' certificate on a real socket.
func serveFiles(t *testing.T, certFile, keyFile string, logs io.Writer) string {
	t.Helper()
	tc, err := ServerConfig(context.Background(), config.TLS{CertFile: certFile, KeyFile: keyFile},
		Deps{Log: slog.New(slog.NewJSONHandler(logs, nil)), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}), TLSConfig: tc}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String()
}

// An operator replaces the certificate files while clients keep calling:
// no request fails, and the new certificate is served without a restart,
// over HTTP/2. A half-written pair (new certificate, old key) is not
// served in between.
func TestFileCertificateRotatesWhileServing(t *testing.T) {
	ca := testkit.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	oldCert, oldKey := ca.Issue(t, "127.0.0.1", "fedgate.test")
	writeAtomically(t, certFile, oldCert)
	writeAtomically(t, keyFile, oldKey)
	var logs testkit.LogBuffer
	base := serveFiles(t, certFile, keyFile, &logs)

	// Each request opens a new connection, so each one is a handshake.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: ca.TLSClientConfig(), DisableKeepAlives: true, ForceAttemptHTTP2: true,
	}}
	var (
		requests, failures atomic.Int64
		mu                 sync.Mutex
		served             = map[string]bool{} // "serial protocol"
		firstErr           error
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(base + "/")
				requests.Add(1)
				if err != nil {
					failures.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				served[resp.TLS.PeerCertificates[0].SerialNumber.String()+" "+string(body)] = true
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)

	// A half-written rotation: the new certificate, the old key.
	newCert, newKey := ca.Issue(t, "127.0.0.1", "fedgate.test")
	writeAtomically(t, certFile, newCert)
	time.Sleep(1500 * time.Millisecond) // past a recheck
	writeAtomically(t, keyFile, newKey)

	newSerial := mustSerial(t, newCert)
	ok := testkit.Eventually(10*time.Second, 50*time.Millisecond, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return served[newSerial+" HTTP/2.0"]
	})
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	if !ok {
		t.Errorf("the new certificate (serial %s) was never served over HTTP/2; served: %v", newSerial, served)
	}
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during the rotation; first: %v", n, requests.Load(), firstErr)
	}
	if served[mustSerial(t, oldCert)+" HTTP/2.0"] != true {
		t.Errorf("the old certificate was not served before the rotation: %v", served)
	}
	if len(served) != 2 {
		t.Errorf("served %v, want exactly the old and the new certificate", served)
	}
	if warn := logs.AtLevel(t, "WARN"); len(warn) != 1 || !strings.Contains(fmt.Sprint(warn[0]["msg"]), "do not load") {
		t.Errorf("want one warning about the half-written pair, got %v", warn)
	}
	if !strings.Contains(logs.String(), "TLS certificate reloaded") {
		t.Errorf("no reload logged:\n%s", logs.String())
	}
	t.Logf("%d requests, no failure", requests.Load())
}

func mustSerial(t *testing.T, certPEM []byte) string {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.String()
}

func TestLoadFilesRefusesABadPair(t *testing.T) {
	ca := testkit.NewCA(t)
	dir := t.TempDir()
	cert1, _ := ca.Issue(t, "a.test")
	_, key2 := ca.Issue(t, "b.test")
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	writeAtomically(t, certFile, cert1)
	writeAtomically(t, keyFile, key2)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := LoadFiles(certFile, keyFile, log, time.Now); err == nil || !strings.Contains(err.Error(), certFile) {
		t.Errorf("mismatched key: err = %v, want one naming the files", err)
	}
	if _, err := LoadFiles(filepath.Join(dir, "missing.pem"), keyFile, log, time.Now); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("missing file: err = %v", err)
	}
	if bytes.Contains([]byte(fmt.Sprint(LoadFiles(certFile, certFile, log, time.Now))), key2) {
		t.Error("an error repeats key material")
	}
}

func newCache(t *testing.T) (*StoreCache, *store.SQLite) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "fedgate.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	box, err := secret.NewBox(key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &StoreCache{Store: st, Box: box, Now: time.Now}, st
}

// The ACME cache keeps autocert's entries in the store, sealed and bound to
// their names, and replaces them on Put.
func TestStoreCache(t *testing.T) {
	ctx := context.Background()
	c, st := newCache(t)
	if _, err := c.Get(ctx, "acme_account+key"); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Fatalf("empty cache: err = %v, want ErrCacheMiss", err)
	}
	secretPEM := []byte("-----BEGIN EC PRIVATE KEY-----\nnot really\n-----END EC PRIVATE KEY-----\n")
	for _, v := range [][]byte{secretPEM, append(secretPEM, 'x')} {
		if err := c.Put(ctx, "acme_account+key", v); err != nil {
			t.Fatal(err)
		}
		got, err := c.Get(ctx, "acme_account+key")
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("Get after Put = %q, %v", got, err)
		}
	}
	raw, err := st.GetEphemeral(ctx, cacheKind, "acme_account+key", time.Now())
	if err != nil || bytes.Contains(raw, []byte("not really")) {
		t.Errorf("the store holds the entry in the clear (%v)", err)
	}
	// An entry moved under another name does not open.
	if err := st.PutEphemeral(ctx, cacheKind, "fedgate.test", raw, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "fedgate.test"); err == nil || errors.Is(err, autocert.ErrCacheMiss) {
		t.Errorf("a moved entry: err = %v, want a refusal", err)
	}
	if err := c.Delete(ctx, "acme_account+key"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "acme_account+key"); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Errorf("after Delete: err = %v", err)
	}
}

// Two replicas share one store: what one puts the other reads.
func TestStoreCacheSharedByReplicas(t *testing.T) {
	ctx := context.Background()
	a, _ := newCache(t)
	b := &StoreCache{Store: a.Store, Box: a.Box, Now: time.Now}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := a
			if i%2 == 1 {
				c = b
			}
			if err := c.Put(ctx, "fedgate.test", []byte(fmt.Sprintf("cert %d", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := b.Get(ctx, "fedgate.test")
	if err != nil || !strings.HasPrefix(string(got), "cert ") {
		t.Errorf("after concurrent puts: %q, %v", got, err)
	}
}
