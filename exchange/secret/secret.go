// Package secret seals secrets at rest (signing keys, client secrets) with
// AES-256-GCM under a key the operator supplies.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// KeySize is the AES-256 key length in bytes.
const KeySize = 32

// version1 tags the sealed format so a later scheme can be told apart.
const version1 byte = 1

// ErrTampered is returned when a sealed value fails authentication: it was
// modified, sealed under another key or additional data, or is not in a
// format this package wrote. The causes are deliberately not distinguished.
var ErrTampered = errors.New("secret: sealed value is corrupt, tampered with, or sealed under another key")

// ErrBadKey is wrapped by every ParseKey and NewBox failure.
var ErrBadKey = errors.New("secret: invalid encryption key")

// ParseKey decodes an operator-supplied key: base64 (standard or URL
// alphabet, padded or not) of exactly 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: empty; make one with `fedgate keys new-master-key`", ErrBadKey)
	}
	trimmed := strings.TrimRight(s, "=")
	var (
		key []byte
		err error
	)
	if strings.ContainsAny(trimmed, "-_") {
		key, err = base64.RawURLEncoding.DecodeString(trimmed)
	} else {
		key, err = base64.RawStdEncoding.DecodeString(trimmed)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not base64: %v", ErrBadKey, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: decodes to %d bytes, want %d", ErrBadKey, len(key), KeySize)
	}
	return key, nil
}

// GenerateKey returns the standard base64 of 32 bytes read from r.
func GenerateKey(r io.Reader) (string, error) {
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(r, key); err != nil {
		return "", fmt.Errorf("secret: generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}

// Box seals and opens values with one AES-256-GCM key. It is safe for
// concurrent use.
type Box struct {
	aead      cipher.AEAD
	digestKey []byte // HMAC-SHA256(key, digestLabel): Digest's key, never the sealing key
	rand      io.Reader
}

// digestLabel derives Digest's subkey from the master key.
const digestLabel = "fedgate digest v1"

// NewBox returns a Box for a 32-byte key; r supplies the nonces.
func NewBox(key []byte, r io.Reader) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadKey, len(key), KeySize)
	}
	if r == nil {
		return nil, errors.New("secret: nil random source")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: gcm: %w", err)
	}
	kdf := hmac.New(sha256.New, key)
	kdf.Write([]byte(digestLabel))
	return &Box{aead: aead, digestKey: kdf.Sum(nil), rand: r}, nil
}

// Digest is a keyed fingerprint of data (hex HMAC-SHA256 under a subkey of
// the box's key): equal data gives an equal digest, but without the key
// nobody can compute one, so showing it does not let anyone check a guess
// of data (say, a document holding a client secret) offline.
func (b *Box) Digest(data []byte) string {
	mac := hmac.New(sha256.New, b.digestKey)
	mac.Write(data)
	return hex.EncodeToString(mac.Sum(nil))
}

// Seal encrypts plaintext bound to aad. The result is
// version byte || nonce || ciphertext+tag.
func (b *Box) Seal(plaintext, aad []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+b.aead.Overhead())
	out[0] = version1
	if _, err := io.ReadFull(b.rand, out[1:]); err != nil {
		return nil, fmt.Errorf("secret: nonce: %w", err)
	}
	return b.aead.Seal(out, out[1:], plaintext, aad), nil
}

// Open decrypts a value Seal produced with the same aad. Any failure is
// ErrTampered.
func (b *Box) Open(sealed, aad []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < 1+ns+b.aead.Overhead() || sealed[0] != version1 {
		return nil, ErrTampered
	}
	plain, err := b.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], aad)
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}
