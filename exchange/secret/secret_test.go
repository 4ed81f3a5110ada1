package secret

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func testKey(t *testing.T, fill byte) []byte {
	t.Helper()
	return bytes.Repeat([]byte{fill}, KeySize)
}

func TestParseKey(t *testing.T) {
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = byte(i*7 + 250) // spans bytes that produce '+' '/' and '-' '_'
	}
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr string
	}{
		{"std padded", base64.StdEncoding.EncodeToString(raw), raw, ""},
		{"std raw", base64.RawStdEncoding.EncodeToString(raw), raw, ""},
		{"url padded", base64.URLEncoding.EncodeToString(raw), raw, ""},
		{"url raw", base64.RawURLEncoding.EncodeToString(raw), raw, ""},
		{"surrounding whitespace", "  " + base64.StdEncoding.EncodeToString(raw) + "\n", raw, ""},
		{"empty", "", nil, "empty"},
		{"too short", base64.StdEncoding.EncodeToString(raw[:16]), nil, "16 bytes, want 32"},
		{"too long", base64.StdEncoding.EncodeToString(append(raw, 1)), nil, "33 bytes, want 32"},
		{"not base64", strings.Repeat("!", 43), nil, "not base64"},
		{"mixed alphabets", "+" + base64.RawURLEncoding.EncodeToString(raw)[1:42] + "_", nil, "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseKey error = %v, want ErrBadKey containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("ParseKey = %x, want %x", got, tt.want)
			}
		})
	}
}

func TestGenerateKeyRoundTrips(t *testing.T) {
	s, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(s)
	if err != nil {
		t.Fatalf("generated key does not parse: %v", err)
	}
	if len(k) != KeySize {
		t.Fatalf("len = %d", len(k))
	}
	if _, err := GenerateKey(bytes.NewReader(make([]byte, 5))); err == nil {
		t.Fatal("short random source: want error")
	}
}

func TestBoxSealOpen(t *testing.T) {
	box, err := NewBox(testKey(t, 1), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewBox(testKey(t, 2), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("client secret value")
	sealed, err := box.Seal(plain, []byte("kid-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) {
		t.Fatal("sealed value contains the plaintext")
	}
	flipped := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name    string
		box     *Box
		sealed  []byte
		aad     string
		wantErr bool
	}{
		{"same key and aad", box, sealed, "kid-1", false},
		{"wrong aad", box, sealed, "kid-2", true},
		{"wrong key", other, sealed, "kid-1", true},
		{"bad version", box, flipped(0), "kid-1", true},
		{"flipped nonce", box, flipped(3), "kid-1", true},
		{"flipped ciphertext", box, flipped(len(sealed) - 1), "kid-1", true},
		{"truncated", box, sealed[:10], "kid-1", true},
		{"empty", box, nil, "kid-1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.sealed, []byte(tt.aad))
			if tt.wantErr {
				if !errors.Is(err, ErrTampered) {
					t.Fatalf("Open error = %v, want ErrTampered", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("Open = %q, want %q", got, plain)
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	box, err := NewBox(testKey(t, 1), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := box.Seal([]byte("x"), nil)
	b, _ := box.Seal([]byte("x"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same value are identical")
	}
}

func TestNewBoxRejectsBadInput(t *testing.T) {
	if _, err := NewBox(make([]byte, 16), rand.Reader); !errors.Is(err, ErrBadKey) {
		t.Fatalf("16-byte key: err = %v", err)
	}
	if _, err := NewBox(make([]byte, KeySize), nil); err == nil {
		t.Fatal("nil rand: want error")
	}
	box, _ := NewBox(make([]byte, KeySize), bytes.NewReader(nil))
	if _, err := box.Seal([]byte("x"), nil); err == nil {
		t.Fatal("exhausted rand: want error")
	}
}

func FuzzOpen(f *testing.F) {
	box, err := NewBox(bytes.Repeat([]byte{9}, KeySize), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := box.Seal([]byte("hello"), []byte("aad"))
	f.Add(good)
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, sealed []byte) {
		plain, err := box.Open(sealed, []byte("aad"))
		if err != nil && !errors.Is(err, ErrTampered) {
			t.Fatalf("unexpected error type %v", err)
		}
		// Only "hello" was ever sealed under this key and aad, so anything
		// else opening would be a forgery.
		if err == nil && !bytes.Equal(plain, []byte("hello")) {
			t.Fatalf("forged value opened to %q", plain)
		}
	})
}

func FuzzParseKey(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString(make([]byte, KeySize)))
	f.Add("")
	f.Add("-_-_")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err == nil && len(k) != KeySize {
			t.Fatalf("accepted %d-byte key", len(k))
		}
		if err != nil && !errors.Is(err, ErrBadKey) {
			t.Fatalf("error does not wrap ErrBadKey: %v", err)
		}
	})
}
