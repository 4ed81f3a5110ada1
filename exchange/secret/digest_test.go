package secret

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestBoxDigest(t *testing.T) {
	newBox := func(t *testing.T, fill byte) *Box {
		t.Helper()
		b, err := NewBox(testKey(t, fill), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	doc := []byte(`{"providers":[{"id":"corp","client_secret":"hunter2"}]}`)
	a1, a2, other := newBox(t, 1), newBox(t, 1), newBox(t, 2)

	// Known answer: HMAC-SHA256 under HMAC-SHA256(key, "fedgate digest v1").
	kdf := hmac.New(sha256.New, testKey(t, 1))
	kdf.Write([]byte("fedgate digest v1"))
	mac := hmac.New(sha256.New, kdf.Sum(nil))
	mac.Write(doc)
	plain := sha256.Sum256(doc)
	direct := hmac.New(sha256.New, testKey(t, 1)) // the master key itself must not be the MAC key
	direct.Write(doc)

	tests := []struct {
		name      string
		got, want string
		equal     bool
	}{
		{"known answer", a1.Digest(doc), hex.EncodeToString(mac.Sum(nil)), true},
		{"deterministic on one box", a1.Digest(doc), a1.Digest(bytes.Clone(doc)), true},
		{"deterministic across boxes with the same key", a1.Digest(doc), a2.Digest(doc), true},
		{"another key gives another digest", a1.Digest(doc), other.Digest(doc), false},
		{"other data gives another digest", a1.Digest(doc), a1.Digest([]byte(`{"providers":[{"id":"corp","client_secret":"hunter3"}]}`)), false},
		{"not the plain SHA-256", a1.Digest(doc), hex.EncodeToString(plain[:]), false},
		{"not an HMAC under the master key", a1.Digest(doc), hex.EncodeToString(direct.Sum(nil)), false},
		{"empty data has a keyed digest too", a1.Digest(nil), other.Digest(nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.got == tt.want) != tt.equal {
				t.Errorf("%s vs %s: equal=%v, want %v", tt.got, tt.want, tt.got == tt.want, tt.equal)
			}
			if len(tt.got) != 64 {
				t.Errorf("digest %q is not 64 hex characters", tt.got)
			}
		})
	}
}
