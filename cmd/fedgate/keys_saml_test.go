package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/store"
)

// TestListSAMLKeys: `fedgate keys list` shows every broker key with the
// state it is in now, and lists nothing (creates nothing) when there is none.
func TestListSAMLKeys(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "fedgate.db"), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out, errOut bytes.Buffer
	if code := listSAMLKeys(ctx, st, now, &out, &errOut); code != 0 || out.Len() != 0 {
		t.Fatalf("no keys: exit %d, output %q %q", code, out.String(), errOut.String())
	}
	keys, _ := st.SAMLSigningKeys().ListSigningKeys(ctx)
	if len(keys) != 0 {
		t.Fatal("listing created a key")
	}
	h := time.Hour
	for _, k := range []store.StoredKey{
		{ID: "k-old", CreatedAt: now.Add(-72 * h), RetiredAt: now.Add(-48 * h)},
		{ID: "k-current", CreatedAt: now.Add(-48 * h), RetiredAt: now.Add(24 * h)},
		{ID: "k-next", CreatedAt: now.Add(24 * h)},
		{ID: "k-plain", CreatedAt: now.Add(-h)},
	} {
		k.Algorithm, k.Sealed = "SAML-RSA-SHA256", []byte("sealed")
		if err := st.SAMLSigningKeys().AddSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if code := listSAMLKeys(ctx, st, now, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"k-old\tSAML-RSA-SHA256\tcreated 2030-04-28T12:00:00Z\tretired 2030-04-29T12:00:00Z\n",
		"k-current\tSAML-RSA-SHA256\tcreated 2030-04-29T12:00:00Z\tactive until 2030-05-02T12:00:00Z\n",
		"k-next\tSAML-RSA-SHA256\tcreated 2030-05-02T12:00:00Z\tannounced: signs from 2030-05-02T12:00:00Z\n",
		"k-plain\tSAML-RSA-SHA256\tcreated 2030-05-01T11:00:00Z\tactive\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "sealed") {
		t.Error("key material in the listing")
	}
}
