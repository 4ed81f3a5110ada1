package client

// Where the client keeps its session and its credentials cache.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// cliDirs are the CLI's directories: XDG_CONFIG_HOME/fedgate (sessions and
// the cache key, 0700) and XDG_CACHE_HOME/fedgate (encrypted credentials).
type cliDirs struct{ config, cache string }

func (c *Client) dirs() (cliDirs, error) {
	home := c.getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return cliDirs{}, fmt.Errorf("cannot find the home directory: %w", err)
		}
		home = h
	}
	pick := func(xdg, fallback string) string {
		if v := c.getenv(xdg); v != "" && filepath.IsAbs(v) {
			return filepath.Join(v, "fedgate")
		}
		return filepath.Join(home, fallback, "fedgate")
	}
	return cliDirs{config: pick("XDG_CONFIG_HOME", ".config"), cache: pick("XDG_CACHE_HOME", ".cache")}, nil
}

// normalizeGateway checks a gateway URL: https, or http on loopback only
// (the CLI sends its session as a bearer token).
func normalizeGateway(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("--gateway is required (or set FEDGATE_GATEWAY)")
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--gateway %q is not a URL like https://fedgate.example.com", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		ip := net.ParseIP(u.Hostname())
		if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", fmt.Errorf("--gateway must use https (plain http only to this computer)")
		}
	default:
		return "", fmt.Errorf("--gateway must be an https URL")
	}
	return u.Scheme + "://" + u.Host + u.Path, nil
}

// gatewayKey names a gateway's files without putting its URL in a file name.
func gatewayKey(gateway string) string {
	sum := sha256.Sum256([]byte(gateway))
	return hex.EncodeToString(sum[:8])
}

// savedSession is the CLI session file, one per gateway, mode 0600.
type savedSession struct {
	Gateway     string    `json:"gateway"`
	AccessToken string    `json:"access_token"`
	SessionID   string    `json:"session_id"`
	ExpiresAt   time.Time `json:"expires_at"`
	Pool        string    `json:"pool"`
	Provider    string    `json:"provider"`
	User        string    `json:"user"`
}

func (d cliDirs) sessionPath(gateway string) string {
	return filepath.Join(d.config, "session-"+gatewayKey(gateway)+".json")
}

// errNoSession means the person has to run fedgate login.
var errNoSession = errors.New("no CLI session")

func (d cliDirs) loadSession(gateway string, now time.Time) (*savedSession, error) {
	b, err := os.ReadFile(d.sessionPath(gateway))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: you are not signed in to %s", errNoSession, gateway)
	}
	if err != nil {
		return nil, err
	}
	var s savedSession
	if err := json.Unmarshal(b, &s); err != nil || s.AccessToken == "" || s.Gateway != gateway {
		return nil, fmt.Errorf("%w: the session file %s is damaged", errNoSession, d.sessionPath(gateway))
	}
	if !now.Before(s.ExpiresAt) {
		return nil, fmt.Errorf("%w: your session with %s expired at %s", errNoSession, gateway, s.ExpiresAt.Local().Format(time.DateTime))
	}
	return &s, nil
}

func (d cliDirs) saveSession(s *savedSession) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(d.sessionPath(s.Gateway), b, 0o600)
}

// writeFileAtomic writes through a temporary file in the same directory
// and renames it into place, so a reader sees the old or the new content,
// never a torn one. The directory is created 0700.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
