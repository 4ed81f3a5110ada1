package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
)

// LetsEncryptDirectory is the default ACME directory.
const LetsEncryptDirectory = "https://acme-v02.api.letsencrypt.org/directory"

// TLS makes the public listener serve https: from certificate files
// (reloaded when they change) or from an ACME CA.
type TLS struct {
	// CertFile and KeyFile are PEM files: the certificate chain (leaf
	// first) and its private key.
	CertFile string `yaml:"cert_file" json:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file" json:"key_file,omitempty"`
	// ACME, when present (even as acme: {}), gets certificates from an
	// ACME CA (Let's Encrypt by default) through the tls-alpn-01 challenge
	// on the public listener.
	ACME *ACME `yaml:"acme" json:"acme,omitempty"`
}

// ACME configures certificates from an ACME CA. Its account key and
// certificates are kept in the store, sealed with the master key, so every
// replica shares them.
type ACME struct {
	DirectoryURL string `yaml:"directory_url" json:"directory_url,omitempty"`
	// Contact is the account's e-mail address (with or without mailto:).
	Contact string `yaml:"contact" json:"contact,omitempty"`
	// Hosts are the names certificates are requested for (default: the
	// public URL's host); a TLS handshake for any other name is refused.
	Hosts []string `yaml:"hosts" json:"hosts,omitempty"`
	// CAFile trusts a private ACME CA's https (PEM); default: system roots.
	CAFile string `yaml:"ca_file" json:"ca_file,omitempty"`
}

// Mode says how the public listener serves: "off", "files" or "acme".
func (t TLS) Mode() string {
	switch {
	case t.ACME != nil:
		return "acme"
	case t.CertFile != "" || t.KeyFile != "":
		return "files"
	default:
		return "off"
	}
}

func (f *File) applyTLSDefaults() {
	a := f.Server.TLS.ACME
	if a == nil {
		return
	}
	if a.DirectoryURL == "" {
		a.DirectoryURL = LetsEncryptDirectory
	}
	if len(a.Hosts) == 0 {
		if u, err := url.Parse(f.Server.PublicURL); err == nil && u.Hostname() != "" {
			a.Hosts = []string{u.Hostname()}
		}
	}
	a.Contact = strings.TrimPrefix(a.Contact, "mailto:")
}

func (f *File) validateTLS(add func(path, format string, args ...any)) {
	t := f.Server.TLS
	switch t.Mode() {
	case "acme":
		if t.CertFile != "" || t.KeyFile != "" {
			add("server.tls.acme", "choose certificate files (cert_file, key_file) or ACME, not both")
		}
		if u, err := url.Parse(t.ACME.DirectoryURL); err != nil || u.Scheme != "https" || u.Host == "" {
			add("server.tls.acme.directory_url", "must be an https URL (the ACME CA's directory)")
		}
		if t.ACME.Contact != "" {
			if a, err := mail.ParseAddress(t.ACME.Contact); err != nil || a.Address != t.ACME.Contact {
				add("server.tls.acme.contact", "must be an e-mail address, e.g. ops@example.com")
			}
		}
		for i, h := range t.ACME.Hosts {
			if h == "" || strings.ContainsAny(h, "/:* ") || net.ParseIP(h) != nil {
				add(pathIndex("server.tls.acme.hosts", i), "%q is not a DNS name", h)
			}
		}
		if len(t.ACME.Hosts) == 0 {
			add("server.tls.acme.hosts", "name at least one host (default: the public URL's host)")
		}
	case "files":
		if t.CertFile == "" {
			add("server.tls.cert_file", "is required with key_file")
		}
		if t.KeyFile == "" {
			add("server.tls.key_file", "is required with cert_file")
		}
	default:
		// Plain HTTP carries sessions and credentials: only where nobody
		// else can listen, or from a proxy that terminated TLS.
		host, _, err := net.SplitHostPort(f.Server.Listen)
		if err == nil && !isLoopback(host) && len(f.Server.TrustedProxies) == 0 {
			add("server.tls", "server.listen %s is not loopback: serve TLS (cert_file and key_file, or acme) or list the proxy that terminates TLS in server.trusted_proxies", f.Server.Listen)
		}
	}
}

func pathIndex(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
