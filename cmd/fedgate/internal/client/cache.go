package client

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fedgate/exchange"
	"fedgate/gateway/wire"
)

// cacheMagic starts every cache file: format version 1 is
// magic || 12-byte nonce || AES-256-GCM(the gateway's JSON credentials).
const (
	cacheMagic     = "FGC1"
	cacheKeyFile   = "cache.key"
	lockWait       = 60 * time.Second
	lockRetryEvery = 25 * time.Millisecond
)

// errCacheUnreadable means a cache file failed authentication: tampered,
// truncated, or written with another key. It is discarded.
var errCacheUnreadable = errors.New("cached credentials could not be decrypted")

// credentialCache is the on-disk cache of one (gateway, pool, role,
// duration): encrypted, 0600, written atomically, guarded by a lock file.
type credentialCache struct {
	path  string // the encrypted file
	aad   []byte // binds the file to its (gateway, pool, role, duration)
	key   []byte
	rand  io.Reader
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

func (c *Client) cacheFor(d cliDirs, gateway, pool, role string, duration int) (*credentialCache, error) {
	key, err := d.cacheKey(c.rand)
	if err != nil {
		return nil, err
	}
	id := strings.Join([]string{gateway, pool, role, fmt.Sprint(duration)}, "\x00")
	sum := sha256.Sum256([]byte(id))
	return &credentialCache{
		path:  filepath.Join(d.cache, gatewayKey(gateway)+"-"+hex.EncodeToString(sum[:12])+".cache"),
		aad:   []byte("fedgate-cache-v1\x00" + id),
		key:   key,
		rand:  c.rand,
		now:   c.now,
		after: c.after,
	}, nil
}

// cacheKey reads the random key the cache is encrypted with, creating it
// (0600, in the 0700 config directory) on first use. Concurrent first uses
// agree on one key: it is written to a temporary file and hard-linked into
// place, which fails if another process linked first.
func (d cliDirs) cacheKey(random io.Reader) ([]byte, error) {
	path := filepath.Join(d.config, cacheKeyFile)
	if key, err := readKey(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(d.config, 0o700); err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(random, raw); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(d.config, ".cache.key.tmp-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, err
	}
	if err := os.Link(f.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return readKey(path)
}

func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("the cache key %s is damaged; delete it to start a new cache", path)
	}
	return key, nil
}

// lock takes the cache's exclusive lock (flock on a side file), waiting up
// to lockWait for another fedgate that is refreshing the same credentials.
func (c *credentialCache) lock(ctx context.Context) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(c.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := c.now().Add(lockWait)
	for {
		locked, err := tryLockFile(f)
		if locked {
			return func() { unlockFile(f); f.Close() }, nil
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
		}
		if c.now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another fedgate has held %s for over %s; giving up", f.Name(), lockWait)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-c.after(lockRetryEvery):
		}
	}
}

// read returns the cached credentials, nil when there are none, or
// errCacheUnreadable when the file does not authenticate.
func (c *credentialCache) read() (*exchange.Credentials, error) {
	b, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	plain, err := openCache(c.key, c.aad, b)
	if err != nil {
		return nil, err
	}
	var w wire.Credentials
	if err := json.Unmarshal(plain, &w); err != nil {
		return nil, errCacheUnreadable
	}
	creds, err := exchange.FromAPI(w)
	if err != nil {
		return nil, errCacheUnreadable
	}
	return creds, nil
}

// write keeps the gateway's answer as it came.
func (c *credentialCache) write(w wire.Credentials) error {
	plain, err := json.Marshal(w)
	if err != nil {
		return err
	}
	sealed, err := sealCache(c.rand, c.key, c.aad, plain)
	if err != nil {
		return err
	}
	return writeFileAtomic(c.path, sealed, 0o600)
}

func (c *credentialCache) discard() error {
	err := os.Remove(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func sealCache(random io.Reader, key, aad, plain []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := io.ReadFull(random, nonce); err != nil {
		return nil, err
	}
	out := append([]byte(cacheMagic), nonce...)
	return gcm.Seal(out, nonce, plain, aad), nil
}

func openCache(key, aad, sealed []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < len(cacheMagic)+gcm.NonceSize()+gcm.Overhead() || !bytes.HasPrefix(sealed, []byte(cacheMagic)) {
		return nil, errCacheUnreadable
	}
	rest := sealed[len(cacheMagic):]
	plain, err := gcm.Open(nil, rest[:gcm.NonceSize()], rest[gcm.NonceSize():], aad)
	if err != nil {
		return nil, errCacheUnreadable
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// removeGatewayCache deletes every cache file of one gateway (logout).
func (d cliDirs) removeGatewayCache(gateway string) error {
	matches, err := filepath.Glob(filepath.Join(d.cache, gatewayKey(gateway)+"-*.cache"))
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
