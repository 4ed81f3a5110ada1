package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"fedgate/gateway/core"
)

// cmdSAMLMetadata prints the SAML broker's IdP metadata (what `aws iam
// create-saml-provider` takes) and, with --rotate, first announces a new
// signing key: it is published at once and signs after --overlap, so the
// admin can upload the new metadata to IAM before the switch.
func cmdSAMLMetadata(ctx context.Context, args []string, env environ, stdout, stderr io.Writer) int {
	fs, cfgPath := newFlags("saml-metadata", stderr)
	rotate := fs.Bool("rotate", false, "announce a new signing key first")
	overlap := fs.Duration("overlap", 24*time.Hour, "with --rotate: how long both keys are published before the new one signs")
	if fs.Parse(args) != nil {
		return 2
	}
	if *overlap < 0 {
		fmt.Fprintln(stderr, "fedgate saml-metadata: --overlap must not be negative")
		return 2
	}
	f, st, box, ok := openConfigured(ctx, "saml-metadata", *cfgPath, env, stderr)
	if !ok {
		return 1
	}
	defer st.Close()
	broker, ring, err := core.OpenSAMLBroker(ctx, f, st, box, time.Now, rand.Reader)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate saml-metadata: %v\n", err)
		return 1
	}
	if *rotate {
		id, startsAt, err := ring.Rotate(ctx, *overlap)
		if err != nil {
			fmt.Fprintf(stderr, "fedgate saml-metadata: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "new SAML signing key %s signs from %s; upload this metadata to IAM before then\n", id, startsAt.UTC().Format(time.RFC3339))
	}
	md, err := broker.Metadata(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate saml-metadata: %v\n", err)
		return 1
	}
	_, _ = stdout.Write(md)
	return 0
}
