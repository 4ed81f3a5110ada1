package tlscert

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// recheckEvery bounds how often a handshake looks at the files: a stat of
// two files at most once a second costs nothing, and needs no watcher
// (which misses the symlink swaps Kubernetes uses for mounted Secrets).
const recheckEvery = time.Second

// FileSource serves the certificate in two PEM files and picks up a new
// pair when either file changes. A pair that does not load (the key not
// yet written, or not matching) leaves the previous certificate in use
// and is tried again at the next check.
type FileSource struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cur     *tls.Certificate
	stamp   fileStamp // of the pair in cur
	failed  fileStamp // of the last pair that did not load (logged once)
	checked time.Time
}

// fileStamp tells whether a file changed: its modification time and size,
// for both files (os.Stat follows symlinks).
type fileStamp [2]struct {
	mod  time.Time
	size int64
}

// LoadFiles reads the pair once; an error here stops the start.
func LoadFiles(certFile, keyFile string, log *slog.Logger, now func() time.Time) (*FileSource, error) {
	s := &FileSource{certFile: certFile, keyFile: keyFile, log: log, now: now}
	stamp, err := s.statFiles()
	if err != nil {
		return nil, err
	}
	cert, err := s.load()
	if err != nil {
		return nil, err
	}
	s.cur, s.stamp, s.checked = cert, stamp, now()
	return s, nil
}

func (s *FileSource) statFiles() (fileStamp, error) {
	var st fileStamp
	for i, name := range []string{s.certFile, s.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return st, fmt.Errorf("server.tls: %w", err)
		}
		st[i].mod, st[i].size = fi.ModTime(), fi.Size()
	}
	return st, nil
}

func (s *FileSource) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
	if err != nil {
		// LoadX509KeyPair's errors name the problem, not the key's bytes.
		return nil, fmt.Errorf("server.tls: loading %s and %s: %w", s.certFile, s.keyFile, err)
	}
	if cert.Leaf == nil {
		return nil, errors.New("server.tls: the certificate file holds no certificate")
	}
	return &cert, nil
}

// GetCertificate is tls.Config.GetCertificate.
func (s *FileSource) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if now.Sub(s.checked) < recheckEvery {
		return s.cur, nil
	}
	s.checked = now
	stamp, err := s.statFiles()
	if err != nil || stamp == s.stamp {
		if err != nil && stamp != s.failed {
			s.failed = stamp
			s.log.Warn("TLS certificate files unreadable; serving the previous certificate", "error", err)
		}
		return s.cur, nil
	}
	cert, err := s.load()
	if err != nil {
		if stamp != s.failed {
			s.failed = stamp
			s.log.Warn("TLS certificate files changed but do not load; serving the previous certificate until they do", "error", err)
		}
		return s.cur, nil
	}
	s.cur, s.stamp = cert, stamp
	s.log.Info("TLS certificate reloaded", describe(cert)...)
	return s.cur, nil
}
