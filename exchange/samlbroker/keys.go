// Package samlbroker is fedgate acting as a SAML 2.0 identity provider that
// IAM trusts (the saml-broker exchange mode): it keeps RSA signing keys with
// their self-signed certificates sealed in the gateway's store, signs
// AWS-shaped SAML responses with RSA-SHA256 and publishes the IdP metadata
// an admin uploads to IAM.
package samlbroker

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"fedgate/exchange/issuer"
	"fedgate/gateway/store"
)

// Algorithm is the StoredKey.Algorithm of broker keys.
const Algorithm = "SAML-RSA-SHA256"

const (
	rsaBits = 2048
	// certLifetime is long on purpose: IAM does not check the expiry of a
	// SAML provider's certificate, and rotation is explicit (RotateKey).
	certLifetime = 10 * 365 * 24 * time.Hour
	// DefaultRetention keeps a retired certificate in the metadata a day, so
	// an admin re-uploading metadata never drops a key still in use.
	DefaultRetention = 24 * time.Hour
	// DefaultReloadEvery is how often the key ring re-reads the store, so a
	// rotation made by another replica or the CLI is picked up.
	DefaultReloadEvery = 30 * time.Second
)

// ErrNoActiveKey means no stored broker key may sign now.
var ErrNoActiveKey = errors.New("samlbroker: no active signing key in the store")

// KeyOptions configure a KeyRing.
type KeyOptions struct {
	Keys        store.KeyStore // the store's ring of broker keys (not the issuer's)
	Sealer      issuer.Sealer
	Now         func() time.Time
	Rand        io.Reader
	CommonName  string        // subject of generated certificates
	Retention   time.Duration // how long a retired certificate stays published
	ReloadEvery time.Duration
}

// KeyRing holds the broker's keys. A key signs from its CreatedAt (which may
// lie in the future: a rotation announces the next key first) until it is
// retired; it is published in the metadata from creation until Retention
// after retirement. Signing reads an atomically swapped snapshot.
type KeyRing struct {
	o    KeyOptions
	snap atomic.Pointer[ring]
	mu   sync.Mutex // serialises loads and rotations
}

type ring struct {
	loadedAt  time.Time
	keys      []ringKey // published, newest first
	signingID string
}

type ringKey struct {
	id        string
	key       *rsa.PrivateKey
	cert      *x509.Certificate
	createdAt time.Time
	retiredAt time.Time
}

// sealedKey is what the store holds for one key, sealed with aad = id.
type sealedKey struct {
	Key  []byte `json:"key"`  // PKCS#8
	Cert []byte `json:"cert"` // DER
}

// NewKeyRing loads the broker keys, creating the first one when none can sign.
func NewKeyRing(ctx context.Context, o KeyOptions) (*KeyRing, error) {
	if o.Keys == nil || o.Sealer == nil || o.Now == nil || o.Rand == nil {
		return nil, errors.New("samlbroker: Keys, Sealer, Now and Rand are required")
	}
	if o.CommonName == "" {
		o.CommonName = "fedgate SAML broker"
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.ReloadEvery == 0 {
		o.ReloadEvery = DefaultReloadEvery
	}
	k := &KeyRing{o: o}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.loadLocked(ctx); errors.Is(err, ErrNoActiveKey) {
		if _, err := k.addLocked(ctx, o.Now()); err != nil {
			return nil, err
		}
		return k, k.loadLocked(ctx)
	} else if err != nil {
		return nil, err
	}
	return k, nil
}

// Rotate announces a new key that starts signing after overlap and retires
// the current ones at that moment. During the overlap both certificates are
// in the metadata, so the admin can upload it to IAM before the switch.
func (k *KeyRing) Rotate(ctx context.Context, overlap time.Duration) (id string, startsAt time.Time, err error) {
	if overlap < 0 {
		return "", time.Time{}, errors.New("samlbroker: negative overlap")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	startsAt = k.o.Now().Add(overlap)
	id, err = k.addLocked(ctx, startsAt)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := k.o.Keys.RetireSigningKeys(ctx, id, startsAt); err != nil {
		return "", time.Time{}, fmt.Errorf("samlbroker: retire previous keys: %w", err)
	}
	if err := k.o.Keys.DeleteSigningKeysRetiredBefore(ctx, k.o.Now().Add(-k.o.Retention)); err != nil {
		return "", time.Time{}, fmt.Errorf("samlbroker: prune keys: %w", err)
	}
	return id, startsAt, k.loadLocked(ctx)
}

// current returns the key snapshot, re-reading the store when it is stale.
func (k *KeyRing) current(ctx context.Context) (*ring, error) {
	r := k.snap.Load()
	if r != nil && k.o.Now().Sub(r.loadedAt) < k.o.ReloadEvery {
		return r, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if r2 := k.snap.Load(); r2 != r && r2 != nil {
		return r2, nil
	}
	if err := k.loadLocked(ctx); err != nil {
		if r != nil {
			return r, nil // keep signing with what we had; the store may be briefly away
		}
		return nil, err
	}
	return k.snap.Load(), nil
}

// Certificates are the published certificates, newest first.
func (k *KeyRing) Certificates(ctx context.Context) ([]*x509.Certificate, error) {
	r, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	certs := make([]*x509.Certificate, len(r.keys))
	for i, rk := range r.keys {
		certs[i] = rk.cert
	}
	return certs, nil
}

// signer returns the key that signs now and its certificate.
func (k *KeyRing) signer(ctx context.Context) (*ringKey, error) {
	r, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	now := k.o.Now()
	for i := range r.keys {
		if rk := &r.keys[i]; canSign(rk.createdAt, rk.retiredAt, now) {
			return rk, nil
		}
	}
	return nil, ErrNoActiveKey
}

func canSign(created, retired, now time.Time) bool {
	return !created.After(now) && (retired.IsZero() || now.Before(retired))
}

func (k *KeyRing) addLocked(ctx context.Context, createdAt time.Time) (string, error) {
	priv, err := rsa.GenerateKey(k.o.Rand, rsaBits)
	if err != nil {
		return "", fmt.Errorf("samlbroker: generate key: %w", err)
	}
	serial, err := rand.Int(k.o.Rand, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return "", fmt.Errorf("samlbroker: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: k.o.CommonName, Organization: []string{"fedgate"}},
		NotBefore:    createdAt.Add(-time.Hour),
		NotAfter:     createdAt.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(k.o.Rand, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return "", fmt.Errorf("samlbroker: certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("samlbroker: encode key: %w", err)
	}
	id, err := keyID(&priv.PublicKey)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(sealedKey{Key: pk, Cert: der})
	if err != nil {
		return "", err
	}
	sealed, err := k.o.Sealer.Seal(plain, []byte(id))
	if err != nil {
		return "", fmt.Errorf("samlbroker: seal key: %w", err)
	}
	if err := k.o.Keys.AddSigningKey(ctx, store.StoredKey{ID: id, Algorithm: Algorithm, Sealed: sealed, CreatedAt: createdAt}); err != nil {
		return "", fmt.Errorf("samlbroker: store key: %w", err)
	}
	return id, nil
}

// keyID is the hex SHA-256 of the public key's DER, shortened: stable
// across replicas and bound to the key material.
func keyID(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("samlbroker: key id: %w", err)
	}
	sum := sha256.Sum256(der)
	return "saml-" + hex.EncodeToString(sum[:16]), nil
}

func (k *KeyRing) loadLocked(ctx context.Context) error {
	stored, err := k.o.Keys.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("samlbroker: list keys: %w", err)
	}
	now := k.o.Now()
	stored = slices.Clone(stored)
	slices.SortFunc(stored, func(a, b store.StoredKey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	r := &ring{loadedAt: now}
	for _, s := range stored {
		if s.Algorithm != Algorithm {
			continue
		}
		if !s.RetiredAt.IsZero() && !now.Before(s.RetiredAt.Add(k.o.Retention)) {
			continue
		}
		rk, err := openKey(s, k.o.Sealer)
		if err != nil {
			return err
		}
		r.keys = append(r.keys, *rk)
		if r.signingID == "" && canSign(s.CreatedAt, s.RetiredAt, now) {
			r.signingID = s.ID
		}
	}
	if r.signingID == "" {
		// Announced keys alone do not count: something must sign now.
		return ErrNoActiveKey
	}
	k.snap.Store(r)
	return nil
}

func openKey(s store.StoredKey, sealer issuer.Sealer) (*ringKey, error) {
	bad := func(reason string, err error) error {
		return &issuer.KeyError{KeyID: s.ID, Reason: reason, Cause: err}
	}
	plain, err := sealer.Open(s.Sealed, []byte(s.ID))
	if err != nil {
		return nil, bad("cannot be decrypted (wrong encryption key, or the stored row was altered)", err)
	}
	var sk sealedKey
	if err := json.Unmarshal(plain, &sk); err != nil {
		return nil, bad("is not a sealed SAML broker key", err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(sk.Key)
	if err != nil {
		return nil, bad("is not a PKCS#8 private key", err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok || priv.N.BitLen() < rsaBits {
		return nil, bad("is not an RSA key of at least 2048 bits", nil)
	}
	cert, err := x509.ParseCertificate(sk.Cert)
	if err != nil {
		return nil, bad("has no valid certificate", err)
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&priv.PublicKey) {
		return nil, bad("certificate does not match the key", nil)
	}
	if id, err := keyID(&priv.PublicKey); err != nil || id != s.ID {
		return nil, bad("key id does not match the key", err)
	}
	return &ringKey{id: s.ID, key: priv, cert: cert, createdAt: s.CreatedAt, retiredAt: s.RetiredAt}, nil
}
