package issuer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

func derSignature(r, s *big.Int, trailing ...byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return append(b.BytesOrPanic(), trailing...)
}

func TestFixedSignature(t *testing.T) {
	highBit := new(big.Int).SetBytes(bytes.Repeat([]byte{0xff}, 32)) // DER adds a 0x00 sign byte
	short := big.NewInt(0x0102)                                      // 2 bytes: padded to 32
	tooLong := new(big.Int).Lsh(big.NewInt(1), 256)                  // 33 bytes
	fixed := func(r, s []byte) []byte {
		out := make([]byte, 64)
		copy(out[32-len(r):32], r)
		copy(out[64-len(s):], s)
		return out
	}
	tests := []struct {
		name string
		der  []byte
		want []byte // nil: an error
	}{
		{"high bit set in both", derSignature(highBit, highBit), bytes.Repeat([]byte{0xff}, 64)},
		{"short r", derSignature(short, highBit), fixed([]byte{1, 2}, highBit.Bytes())},
		{"short s", derSignature(highBit, short), fixed(highBit.Bytes(), []byte{1, 2})},
		{"r longer than 32 bytes", derSignature(tooLong, short), nil},
		{"s longer than 32 bytes", derSignature(short, tooLong), nil},
		{"negative r", derSignature(big.NewInt(-5), short), nil},
		{"trailing bytes", derSignature(short, short, 0), nil},
		{"empty", nil, nil},
		{"one integer", func() []byte {
			var b cryptobyte.Builder
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1BigInt(short) })
			return b.BytesOrPanic()
		}(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := bytes.Repeat([]byte{0xaa}, 64) // leftovers must be overwritten
			err := fixedSignature(out, tt.der)
			switch {
			case tt.want == nil && err == nil:
				t.Fatalf("accepted %x as %x", tt.der, out)
			case tt.want != nil && err != nil:
				t.Fatal(err)
			case tt.want != nil && !bytes.Equal(out, tt.want):
				t.Fatalf("got %x\nwant %x", out, tt.want)
			}
		})
	}
}

// Real signatures, about one in 128 with an r or s shorter than 32 bytes,
// still verify after conversion to r || s.
func TestFixedSignatureOfRealSignatures(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("payload"))
	for range 300 {
		der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		var rs [64]byte
		if err := fixedSignature(rs[:], der); err != nil {
			t.Fatal(err)
		}
		r, s := new(big.Int).SetBytes(rs[:32]), new(big.Int).SetBytes(rs[32:])
		if !ecdsa.Verify(&key.PublicKey, digest[:], r, s) {
			t.Fatalf("r||s %x of %x does not verify", rs, der)
		}
	}
}

func TestNewSigningKey(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	k, err := newSigningKey("kid-1", AlgES256, p256)
	if err != nil {
		t.Fatal(err)
	}
	header, err := base64.RawURLEncoding.DecodeString(strings.TrimSuffix(k.prefix, "."))
	if err != nil || string(header) != `{"alg":"ES256","kid":"kid-1","typ":"JWT"}` || !strings.HasSuffix(k.prefix, ".") {
		t.Fatalf("prefix %q: header %s, %v", k.prefix, header, err)
	}
	for name, tt := range map[string]struct {
		alg  string
		priv crypto.Signer
	}{
		"P-384 key":          {AlgES256, p384},
		"ECDSA key as RS256": {AlgRS256, p256},
		"no key":             {AlgES256, nil},
	} {
		if _, err := newSigningKey("kid", tt.alg, tt.priv); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
