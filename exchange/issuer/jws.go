package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// signingKey makes compact JWS (RFC 7515) with one private key. The protected
// header never changes for a key, so it is encoded once, when the key set is
// built; minting then only encodes the payload and signs.
type signingKey struct {
	kid    string
	prefix string            // base64url(protected header) + "."
	ecKey  *ecdsa.PrivateKey // ES256, or
	rsaKey *rsa.PrivateKey   // RS256
}

func newSigningKey(kid, alg string, priv crypto.Signer) (*signingKey, error) {
	k := &signingKey{kid: kid}
	switch key := priv.(type) {
	case *ecdsa.PrivateKey:
		if alg != AlgES256 || key.Curve != elliptic.P256() {
			return nil, fmt.Errorf("an ECDSA key signs only %s on P-256", AlgES256)
		}
		k.ecKey = key
	case *rsa.PrivateKey:
		if alg != AlgRS256 {
			return nil, fmt.Errorf("an RSA key signs only %s", AlgRS256)
		}
		k.rsaKey = key
	default:
		return nil, fmt.Errorf("key type %T not supported", priv)
	}
	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{alg, kid, "JWT"})
	if err != nil {
		return nil, err
	}
	k.prefix = base64.RawURLEncoding.EncodeToString(header) + "."
	return k, nil
}

// sign returns header.payload.signature with every part base64url without
// padding. The buffers live on the stack for usual token sizes.
func (k *signingKey) sign(random io.Reader, payload []byte) (string, error) {
	var buf [2048]byte
	b := append(buf[:0], k.prefix...)
	b = base64.RawURLEncoding.AppendEncode(b, payload)
	digest := sha256.Sum256(b)
	b = append(b, '.')
	if k.ecKey != nil {
		der, err := ecdsa.SignASN1(random, k.ecKey, digest[:])
		if err != nil {
			return "", err
		}
		var rs [64]byte
		if err := fixedSignature(rs[:], der); err != nil {
			return "", err
		}
		b = base64.RawURLEncoding.AppendEncode(b, rs[:])
	} else {
		// PKCS #1 v1.5 takes no randomness.
		sig, err := rsa.SignPKCS1v15(nil, k.rsaKey, crypto.SHA256, digest[:])
		if err != nil {
			return "", err
		}
		b = base64.RawURLEncoding.AppendEncode(b, sig)
	}
	return string(b), nil
}

// fixedSignature writes an ASN.1 DER ECDSA signature into out as r || s, each
// a big-endian integer left-padded with zeros to half of out: the form JWS
// requires (RFC 7518 §3.4), 32 bytes each for P-256.
func fixedSignature(out, der []byte) error {
	var seq cryptobyte.String
	var r, s []byte // minimal big-endian, no sign byte
	in := cryptobyte.String(der)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() {
		return errors.New("malformed ECDSA signature")
	}
	half := len(out) / 2
	if len(r) > half || len(s) > half {
		return errors.New("ECDSA signature too long for the curve")
	}
	clear(out)
	copy(out[half-len(r):half], r)
	copy(out[len(out)-len(s):], s)
	return nil
}
