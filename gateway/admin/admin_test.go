package admin

// The admin surface's own tests build it over a real SQLite store, the
// real issuer and secret box, an injected clock and random source, and no
// HTTP server; the tests that drive /admin over HTTP are in package
// gateway, with the whole server.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"fedgate/exchange/issuer"
	"fedgate/exchange/rules"
	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/signin"
	"fedgate/gateway/store"
	"fedgate/gateway/testkit"
	staticidp "fedgate/idp/static"
	"fedgate/web"
)

const (
	testTeamID = "us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11"
	testReader = "arn:aws:iam::123456789012:role/reader"
	testAdmin  = "arn:aws:iam::123456789012:role/admin"
)

// testConfig has the static provider "demo", which admins sign in with,
// and pool "team" (all matches, a session tag, two rules).
func testConfig(tb testing.TB) *config.File {
	tb.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("carol-pass"), bcrypt.MinCost) // the format of staticidp.HashPassword, faster
	if err != nil {
		tb.Fatal(err)
	}
	admins := []rules.Condition{{Claim: "groups", Op: "equals", Value: "admins"}}
	f := &config.File{
		Server: config.Server{Listen: "127.0.0.1:8080", PublicURL: "http://127.0.0.1:8080", MaxBodyBytes: 64 << 10,
			ShutdownGrace: config.Duration(5 * time.Second), ReloadInterval: config.Duration(time.Hour)},
		Keys: config.Keys{MasterKey: "set-by-test"},
		Providers: []config.Provider{
			{ID: "demo", Type: config.ProviderStatic, DisplayName: "Demo users", Settings: &staticidp.Settings{Users: []staticidp.User{
				{Username: "carol", PasswordHash: string(hash), Claims: map[string]any{"groups": []any{"dev", "admins"}, "team": "red"}},
			}},
			},
		},
		Pools: []config.Pool{
			{ID: testTeamID, Name: "team", DisplayName: "Team", Providers: []string{"demo"}, Resolution: rules.AllMatches,
				PrincipalTags: map[string]string{"team": "team"},
				Rules: []rules.RuleSpec{
					{Name: "admins", Match: admins, Role: testAdmin},
					{Name: "devs", Match: []rules.Condition{{Claim: "groups", Op: "equals", Value: "dev"}}, Role: testReader},
				}},
		},
		Admin: config.Admin{
			Providers: []string{"demo"},
			Rules:     []config.AdminRule{{Name: "owners", Match: admins, Role: config.AdminOwner}},
		},
	}
	f.ApplyDefaults()
	if ps := f.Validate(); len(ps) > 0 {
		tb.Fatalf("test configuration invalid: %v", ps)
	}
	return f
}

// newTestAdmin is the admin surface over a fresh store seeded with
// testConfig.
func newTestAdmin(tb testing.TB) *Admin {
	tb.Helper()
	ctx := context.Background()
	f := testConfig(tb)
	clock := testkit.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	random := testkit.NewRand(1)
	log := slog.New(slog.DiscardHandler)
	st, err := store.OpenSQLite(ctx, filepath.Join(tb.TempDir(), "fedgate.db"), clock.Now)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	key := make([]byte, secret.KeySize)
	if _, err := io.ReadFull(random, key); err != nil {
		tb.Fatal(err)
	}
	box, err := secret.NewBox(key, random)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := core.Seed(ctx, st, box, f, log); err != nil {
		tb.Fatal(err)
	}
	iss, err := issuer.New(ctx, issuer.Options{URL: f.Server.PublicURL, Algorithm: f.Keys.Algorithm, TokenTTL: f.Keys.TokenTTL.D(),
		Keys: st, Sealer: box, Now: clock.Now, Rand: random})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := core.New(ctx, core.Deps{Config: f, Store: st, Issuer: iss, Box: box,
		Upstream: &http.Client{Timeout: time.Second}, Logger: log, Now: clock.Now, Rand: random})
	if err != nil {
		tb.Fatal(err)
	}
	pages, err := web.Pages()
	if err != nil {
		tb.Fatal(err)
	}
	kit, err := httpkit.New(httpkit.Options{PublicURL: f.Server.PublicURL, Pages: pages, Log: log, Rand: random, Now: clock.Now, Audit: c.Audit})
	if err != nil {
		tb.Fatal(err)
	}
	return New(c, kit, signin.New(c, kit))
}
