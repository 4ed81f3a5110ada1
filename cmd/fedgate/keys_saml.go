package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"fedgate/gateway/store"
)

// listSAMLKeys prints the SAML broker's signing keys (`fedgate keys list`),
// after the issuer's, in the same columns. A broker key signs from its
// creation time (a rotation announces the next key ahead: "announced")
// until it is retired; it stays in the metadata a while after. Listing
// never creates a key: a gateway that never ran a saml-broker pool has
// none.
func listSAMLKeys(ctx context.Context, st store.Store, now time.Time, stdout, stderr io.Writer) int {
	keys, err := st.SAMLSigningKeys().ListSigningKeys(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate keys list: SAML broker keys: %v\n", err)
		return 1
	}
	for _, k := range keys {
		fmt.Fprintf(stdout, "%s\t%s\tcreated %s\t%s\n", k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339), samlKeyState(k, now))
	}
	return 0
}

func samlKeyState(k store.StoredKey, now time.Time) string {
	switch {
	case k.CreatedAt.After(now):
		return "announced: signs from " + k.CreatedAt.UTC().Format(time.RFC3339)
	case k.RetiredAt.IsZero():
		return "active"
	case k.RetiredAt.After(now):
		return "active until " + k.RetiredAt.UTC().Format(time.RFC3339)
	default:
		return "retired " + k.RetiredAt.UTC().Format(time.RFC3339)
	}
}
