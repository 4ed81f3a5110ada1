package main

import (
	"context"
	"strings"
	"testing"

	"fedgate/gateway/config"
)

// A postgres store that cannot be opened is reported without its DSN,
// which may hold a password; the log label never carries it either.
func TestOpenStorePostgresErrorsHideTheDSN(t *testing.T) {
	const password = "pw-never-printed-9c1e"
	for _, dsn := range []string{
		"postgres://fedgate:" + password + "@127.0.0.1:1/fedgate?connect_timeout=2", // nobody listening
		"postgres://fedgate:" + password + "@127.0.0.1:99999999/fedgate",            // unparsable
	} {
		c := config.Store{Driver: config.StoreDriverPostgres, DSN: dsn}
		st, err := openStore(context.Background(), c)
		if err == nil {
			_ = st.Close()
			t.Fatalf("openStore(%q) succeeded", dsn)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("error repeats the password: %v", err)
		}
		if label := storeLabel(c); label != "postgres" {
			t.Errorf("storeLabel = %q, want postgres", label)
		}
	}
}
