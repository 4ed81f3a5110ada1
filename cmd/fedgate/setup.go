package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"fedgate/exchange/issuer"
	"fedgate/exchange/issuer/publish"
	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
	"fedgate/gateway/upstream"
)

type environ struct {
	lookup func(string) (string, bool)
}

func (e environ) get(name string) string {
	v, _ := e.lookup(name)
	return v
}

// loadConfig reads the file and applies the environment overrides.
func loadConfig(path string, env environ) (*config.File, error) {
	if path == "" {
		return nil, errors.New("--config is required")
	}
	f, err := config.LoadFile(path, env.lookup)
	if err != nil {
		return nil, err
	}
	base := filepath.Dir(path)
	f.Store.Path = relativeTo(base, f.Store.Path)
	for _, p := range []*string{&f.Keys.MasterKeyFile, &f.Server.TLS.CertFile, &f.Server.TLS.KeyFile} {
		if *p != "" {
			*p = relativeTo(base, *p)
		}
	}
	if a := f.Server.TLS.ACME; a != nil && a.CAFile != "" {
		a.CAFile = relativeTo(base, a.CAFile)
	}
	return f, nil
}

// relativeTo resolves relative paths in a config against its directory,
// so `fedgate serve --config configs/demo.yaml` works from anywhere.
func relativeTo(base, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// masterKey returns the operator's key, or for the demo creates one in a
// 0600 file beside the configuration.
func masterKey(f *config.File, log *slog.Logger) ([]byte, error) {
	if f.Keys.MasterKey != "" {
		return secret.ParseKey(f.Keys.MasterKey)
	}
	b, err := os.ReadFile(f.Keys.MasterKeyFile)
	if errors.Is(err, fs.ErrNotExist) && f.Keys.GenerateMasterKey {
		k, gerr := secret.GenerateKey(rand.Reader)
		if gerr != nil {
			return nil, gerr
		}
		if werr := os.WriteFile(f.Keys.MasterKeyFile, []byte(k+"\n"), 0o600); werr != nil {
			return nil, fmt.Errorf("writing master key file: %w", werr)
		}
		log.Warn("generated a new master key file; fine for a demo, use FEDGATE_MASTER_KEY from a secret store in production", "file", f.Keys.MasterKeyFile)
		return secret.ParseKey(k)
	}
	if err != nil {
		return nil, fmt.Errorf("reading master key file: %w", err)
	}
	return secret.ParseKey(strings.TrimSpace(string(b)))
}

func newLogger(w io.Writer, env environ) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(env.get("FEDGATE_LOG_LEVEL")))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// openCore opens what every store-touching command needs.
func openCore(ctx context.Context, f *config.File, log *slog.Logger) (store.Store, *secret.Box, error) {
	key, err := masterKey(f, log)
	if err != nil {
		return nil, nil, err
	}
	box, err := secret.NewBox(key, rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(ctx, f.Store)
	if err != nil {
		return nil, nil, err
	}
	return st, box, nil
}

// openConfigured is the start of every subcommand that works on the store:
// it loads the configuration at cfgPath and opens its store and secret
// box, or says on stderr why not (as `fedgate cmd`). The caller closes the
// store.
func openConfigured(ctx context.Context, cmd, cfgPath string, env environ, stderr io.Writer) (*config.File, store.Store, *secret.Box, bool) {
	if cfgPath == "" {
		fmt.Fprintf(stderr, "fedgate %s: --config is required\n", cmd)
		return nil, nil, nil, false
	}
	f, err := loadConfig(cfgPath, env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cfgPath, err)
		return nil, nil, nil, false
	}
	if err := checkMasterKey(f); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cfgPath, err)
		return nil, nil, nil, false
	}
	st, box, err := openCore(ctx, f, newLogger(stderr, env))
	if err != nil {
		fmt.Fprintf(stderr, "fedgate %s: %s: %v\n", cmd, cfgPath, err)
		return nil, nil, nil, false
	}
	return f, st, box, true
}

// openStore opens the configured backend. Errors name the SQLite file but
// never the PostgreSQL DSN, which may hold a password.
func openStore(ctx context.Context, c config.Store) (store.Store, error) {
	if c.Driver == config.StoreDriverPostgres {
		st, err := store.OpenPostgres(ctx, c.DSN, time.Now)
		if err != nil {
			return nil, fmt.Errorf("opening the postgres store: %w", err)
		}
		return st, nil
	}
	st, err := store.OpenSQLite(ctx, c.Path, time.Now)
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", c.Path, err)
	}
	return st, nil
}

// storeLabel says which store is in use, for logs: the SQLite path, or
// just "postgres" (the DSN may hold a password).
func storeLabel(c config.Store) string {
	if c.Driver == config.StoreDriverPostgres {
		return "postgres"
	}
	return c.Path
}

// newIssuer opens the issuer. With a publisher (keys.publish) every new
// key reaches the bucket before it is stored, so before it can sign.
func newIssuer(ctx context.Context, f *config.File, st store.Store, box *secret.Box, pub *publish.Publisher) (*issuer.Issuer, error) {
	o := issuer.Options{
		URL: f.IssuerBase(), Algorithm: f.Keys.Algorithm, TokenTTL: f.Keys.TokenTTL.D(),
		Keys: st, Sealer: box, Now: time.Now, Rand: rand.Reader,
		PublishDelay: keyPublishDelay(f),
	}
	if pub != nil {
		o.Announce = func(ctx context.Context, next jose.JSONWebKeySet) error {
			_, err := publishDocuments(ctx, f, st, box, pub, next)
			return err
		}
	}
	return issuer.New(ctx, o)
}

// keyPublishDelay is how long `fedgate keys rotate` publishes a new key
// before it signs: two reload intervals, so every replica's JWKS has it by
// the time any replica signs with it; and with keys.publish, past the
// objects' cache lifetime, so no cache that obeys it still hides the key.
func keyPublishDelay(f *config.File) time.Duration {
	d := 2*f.Server.ReloadInterval.D() + time.Second
	if p := f.Keys.Publish; p != nil {
		d = max(d, p.CacheMaxAge.D()+time.Second)
	}
	return d
}

// configFlag parses the common --config flag plus extras.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs, fs.String("config", "", "configuration file (YAML)")
}

// upstreamClient talks to identity providers (discovery, JWKS, tokens, SAML
// metadata): bounded in time, never led from https to plain http by a
// redirect, and never into the gateway's own network unless the file
// allows it (server.allow_upstream_cidrs).
func upstreamClient(f *config.File) (*http.Client, error) {
	return upstream.NewClient(upstream.Options{AllowCIDRs: f.Server.AllowUpstreamCIDRs})
}
