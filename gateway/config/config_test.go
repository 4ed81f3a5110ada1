package config

import (
	"errors"
	oidcidp "fedgate/idp/oidc"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

const goodHash = "$2a$12$x9WK8SK7Scy/RCOAuPlIGu4JUzIj1YzvHro4z45dYvhqq9Bn7L5fC"

func envOf(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const validConfig = `
server:
  public_url: https://fedgate.example.com
keys:
  master_key: ${MASTER}
providers:
  - id: corp
    type: oidc
    issuer: https://idp.example.com
    client_id: fedgate
    client_secret: ${SECRET}
pools:
  - id: us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11
    name: team
    providers: [corp]
    principal_tags: {department: department}
    rules:
      - name: readers
        match: [{claim: groups, op: equals, value: readers}]
        role: arn:aws:iam::123456789012:role/reader
`

func TestParseValidAppliesDefaultsAndExpandsEnv(t *testing.T) {
	f, err := Parse([]byte(validConfig), envOf(map[string]string{"MASTER": "k", "SECRET": "s3cr3t: {not yaml}"}))
	if err != nil {
		t.Fatal(err)
	}
	if f.Server.Listen != DefaultListen || f.Store.Driver != "sqlite" || f.Keys.Algorithm != "ES256" || f.Keys.TokenTTL.D() != DefaultTokenTTL {
		t.Errorf("defaults not applied: %+v %+v %+v", f.Server, f.Store, f.Keys)
	}
	// A secret that looks like YAML stays a plain string.
	if s := f.Providers[0].Settings.(*oidcidp.Settings).ClientSecret; s != "s3cr3t: {not yaml}" {
		t.Errorf("client_secret = %q", s)
	}
	p := f.Pools[0]
	if p.Mode != ModeGatewayToken || p.DurationSeconds != DefaultDurationSeconds || p.Region() != "us-east-1" {
		t.Errorf("pool defaults: %+v", p)
	}
	if f.IssuerURL(&p) != "https://fedgate.example.com" || p.GuestAudience() == p.Audience() {
		t.Errorf("issuer/audiences: %s %s %s", f.IssuerURL(&p), p.Audience(), p.GuestAudience())
	}
}

// TestEveryProblemReportedAtOnce is what `fedgate check` promises: one pass
// over a broken file names every problem with its path.
func TestEveryProblemReportedAtOnce(t *testing.T) {
	broken := `
server:
  public_url: http://fedgate.example.com
  listen: nowhere
  colour: blue
keys:
  algorithm: HS256
  token_ttl: 1h
sts:
  region: mars
providers:
  - id: corp
    type: oidc
    issuer: ftp://idp
    allowed_algorithms: [none]
  - id: corp
    type: ldap
  - id: demo
    type: static
    users:
      - {username: alice, password_hash: plaintext}
pools:
  - id: not-a-pool-id
    name: Team!
    providers: [corp, ghost]
    duration_seconds: 60
    allow_guests: true
    account_aliases: {"12345": Short id, "123456789012": "", "210987654321": Fine}
    rules:
      - name: bad
        match: [{claim: groups, op: resembles, value: x}]
        role: arn:aws:iam::123:role/short-account
      - name: worse
        match: [{claim: email, op: regex, value: "("}]
        cel: 'claims.nope +'
        role: arn:aws:iam::123456789012:role/ok
        duration_seconds: 50000
  - id: us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11
    name: fwd
    mode: upstream-token
    providers: [demo]
    principal_tags: {team: team}
    rules:
      - {name: r, role: "arn:aws:iam::123456789012:role/r"}
`
	_, err := Parse([]byte(broken), envOf(nil))
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	got := map[string]bool{}
	for _, p := range ps {
		got[p.Path] = true
		if p.Message == "" {
			t.Errorf("problem at %q has no message", p.Path)
		}
	}
	want := []string{
		"", // unknown key server.colour (reported by line)
		"server.listen", "server.public_url", "keys.algorithm", "keys.master_key", "keys.token_ttl", "sts.region",
		"providers[0].issuer", "providers[0].client_id", "providers[0].allowed_algorithms[0]",
		"providers[1].id", "providers[1].type", "providers[2].users[0].password_hash",
		"pools[0].id", "pools[0].name", "pools[0].providers[1]", "pools[0].duration_seconds",
		"pools[0].unauthenticated_role", "pools[0].rules[0].match[0].op", "pools[0].rules[0].role",
		"pools[0].rules[1].match[0].value", "pools[0].rules[1].cel", "pools[0].rules[1].duration_seconds",
		"pools[1].providers[0]", "pools[1].principal_tags",
		"pools[0].account_aliases.12345", "pools[0].account_aliases.123456789012",
	}
	var missing []string
	for _, w := range want {
		if !got[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		var paths []string
		for p := range got {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		t.Errorf("missing problems %q\ngot paths %q\n%v", missing, paths, err)
	}
	if got["pools[0].account_aliases.210987654321"] {
		t.Errorf("a valid account alias was refused")
	}
	if !strings.Contains(err.Error(), "field colour not found") {
		t.Errorf("unknown key not reported:\n%v", err)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, yaml, wantPath, wantMsg string
		env                           map[string]string
	}{
		{"unset env var", validConfig, "keys.master_key", "MASTER is not set", map[string]string{"SECRET": "s"}},
		{"not yaml", "server: [", "", "not valid YAML", nil},
		{"https issuer with port", strings.Replace(validConfig, "https://fedgate.example.com", "https://fedgate.example.com:8443", 1), "server.public_url", "port", map[string]string{"MASTER": "k", "SECRET": "s"}},
		{"issuer with query", strings.Replace(validConfig, "https://fedgate.example.com", "https://fedgate.example.com/?a=b", 1), "server.public_url", "query", map[string]string{"MASTER": "k", "SECRET": "s"}},
		{"tag key too long", strings.Replace(validConfig, "{department: department}", "{"+strings.Repeat("k", 129)+": department}", 1), "pools[0].principal_tags", "", map[string]string{"MASTER": "k", "SECRET": "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), envOf(tt.env))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want Problems, got %v", err)
			}
			for _, p := range ps {
				if strings.HasPrefix(p.Path, tt.wantPath) && strings.Contains(p.String(), tt.wantMsg) {
					return
				}
			}
			t.Errorf("no problem at %q mentioning %q in:\n%v", tt.wantPath, tt.wantMsg, err)
		})
	}
}

func TestTooManyAudiencesOnOneIssuer(t *testing.T) {
	var b strings.Builder
	b.WriteString("keys: {master_key: k}\nproviders:\n  - {id: demo, type: static, users: [{username: a, password_hash: \"" + goodHash + "\"}]}\npools:\n")
	for i := 0; i < MaxAudiencesPerIssuer+1; i++ {
		b.WriteString("  - {id: \"us-east-1:00000000-0000-4000-8000-" + pad12(i) + "\", name: p" + pad12(i) + ", providers: [demo], rules: [{name: r, role: \"arn:aws:iam::123456789012:role/r\"}]}\n")
	}
	_, err := Parse([]byte(b.String()), envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "own_issuer") {
		t.Fatalf("101 pools on one issuer: %v", err)
	}
}

func pad12(i int) string {
	s := strings.Repeat("0", 12) + strconv.Itoa(i)
	return s[len(s)-12:]
}

func TestLoadFileTooLargeAndMissing(t *testing.T) {
	if _, err := LoadFile(filepath.Join(t.TempDir(), "absent.yaml"), envOf(nil)); err == nil {
		t.Error("missing file accepted")
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxFileBytes)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(big, envOf(nil)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: %v", err)
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90": 90 * time.Second, "15m": 15 * time.Minute, "1h30m": 90 * time.Minute} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err != nil || d.D() != want {
			t.Errorf("%q -> %v, %v; want %v", in, d.D(), err, want)
		}
	}
	var d Duration
	if err := d.UnmarshalText([]byte("soon")); err == nil {
		t.Error("\"soon\" accepted as a duration")
	}
}
