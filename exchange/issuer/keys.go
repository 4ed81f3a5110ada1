package issuer

import (
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"fedgate/gateway/store"
)

// Supported signing algorithms.
const (
	AlgES256 = string(jose.ES256)
	AlgRS256 = string(jose.RS256)
)

// rsaBits follows the key size the IAM documentation shows for OIDC providers.
const rsaBits = 2048

func supportedAlgorithm(alg string) bool { return alg == AlgES256 || alg == AlgRS256 }

// ErrNoActiveKey means the store holds no usable active signing key.
var ErrNoActiveKey = errors.New("issuer: no active signing key in the store")

// KeyError reports a stored key that cannot be used. Its message names the
// key and the likely cause but never includes key material.
type KeyError struct {
	KeyID  string
	Reason string
	Cause  error
}

func (e *KeyError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("issuer: signing key %q: %s: %v", e.KeyID, e.Reason, e.Cause)
	}
	return fmt.Sprintf("issuer: signing key %q: %s", e.KeyID, e.Reason)
}

func (e *KeyError) Unwrap() error { return e.Cause }

// keySet is one immutable snapshot of the keys in use.
type keySet struct {
	signer *signingKey
	kid    string
	public jose.JSONWebKeySet
}

func generateKey(alg string, r io.Reader, sealer Sealer, now time.Time) (store.StoredKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), r)
	case AlgRS256:
		priv, err = rsa.GenerateKey(r, rsaBits)
	default:
		return store.StoredKey{}, fmt.Errorf("issuer: algorithm %q not supported", alg)
	}
	if err != nil {
		return store.StoredKey{}, fmt.Errorf("issuer: generate %s key: %w", alg, err)
	}
	kid, err := keyID(priv.Public())
	if err != nil {
		return store.StoredKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.StoredKey{}, fmt.Errorf("issuer: encode key: %w", err)
	}
	sealed, err := sealer.Seal(der, []byte(kid))
	if err != nil {
		return store.StoredKey{}, fmt.Errorf("issuer: seal key: %w", err)
	}
	return store.StoredKey{ID: kid, Algorithm: alg, Sealed: sealed, CreatedAt: now}, nil
}

// keyID is the RFC 7638 thumbprint of the public key: unique per key and
// stable across replicas without coordination.
func keyID(pub crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("issuer: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// buildKeySet opens every key that is announced, active or still inside its
// retention window. The signer is the newest active key of the preferred algorithm,
// else the newest active key (another replica may run a different config).
func buildKeySet(stored []store.StoredKey, preferredAlg string, sealer Sealer, now time.Time) (*keySet, error) {
	stored = slices.Clone(stored)
	// Newest first, ties broken by ID so every replica picks the same signer.
	slices.SortFunc(stored, func(a, b store.StoredKey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	set := &keySet{}
	var signing *jose.JSONWebKey
	for _, k := range stored {
		// A key signs from its CreatedAt (a rotated key may be announced
		// ahead) until its RetiredAt (possibly in the future), and stays
		// published for the retention window after that.
		active := !now.Before(k.CreatedAt) && (k.RetiredAt.IsZero() || now.Before(k.RetiredAt))
		if !k.RetiredAt.IsZero() && !now.Before(k.RetiredAt.Add(retention)) {
			continue // past its window; Prune will delete it
		}
		priv, err := openKey(k, sealer)
		if err != nil {
			return nil, err
		}
		jwk := jose.JSONWebKey{Key: priv, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"}
		set.public.Keys = append(set.public.Keys, jwk.Public())
		if active && (signing == nil || (k.Algorithm == preferredAlg && signing.Algorithm != preferredAlg)) {
			signing = &jwk
		}
	}
	if signing == nil {
		return nil, ErrNoActiveKey
	}
	priv, _ := signing.Key.(crypto.Signer) // openKey's; nil is refused below
	signer, err := newSigningKey(signing.KeyID, signing.Algorithm, priv)
	if err != nil {
		return nil, &KeyError{KeyID: signing.KeyID, Reason: "cannot build signer", Cause: err}
	}
	set.signer, set.kid = signer, signing.KeyID
	return set, nil
}

func openKey(k store.StoredKey, sealer Sealer) (crypto.Signer, error) {
	der, err := sealer.Open(k.Sealed, []byte(k.ID))
	if err != nil {
		return nil, &KeyError{KeyID: k.ID, Reason: "cannot be decrypted (wrong encryption key, or the stored row was altered)", Cause: err}
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, &KeyError{KeyID: k.ID, Reason: "is not a PKCS#8 private key", Cause: err}
	}
	var ok bool
	switch priv := parsed.(type) {
	case *ecdsa.PrivateKey:
		ok = k.Algorithm == AlgES256 && priv.Curve == elliptic.P256()
	case *rsa.PrivateKey:
		ok = k.Algorithm == AlgRS256 && priv.N.BitLen() >= rsaBits
	}
	if !ok {
		return nil, &KeyError{KeyID: k.ID, Reason: fmt.Sprintf("key type %T does not match algorithm %q", parsed, k.Algorithm)}
	}
	signer := parsed.(crypto.Signer)
	// The ID is bound to the key material; a swapped row is caught here too.
	if kid, err := keyID(signer.Public()); err != nil || kid != k.ID {
		return nil, &KeyError{KeyID: k.ID, Reason: "key id does not match the key's thumbprint"}
	}
	return signer, nil
}
