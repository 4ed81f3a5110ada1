package static

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"fedgate/idp"
)

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	// MinCost keeps the tests fast; production hashes use HashPassword.
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestStaticAuthenticate(t *testing.T) {
	s, err := New(Config{ID: "demo", DisplayName: "Demo users", Users: []User{
		{Username: "alice", PasswordHash: mustHash(t, "wonderland"), Claims: map[string]any{
			"groups": []any{"admins"}, "sub": "spoofed", "profile": map[string]any{"team": "a"},
		}},
		{Username: "bob", PasswordHash: mustHash(t, "builder")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("p", maxPasswordBytes)
	s2, err := New(Config{ID: "long", Users: []User{{Username: "carol", PasswordHash: mustHash(t, long)}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name               string
		provider           *Provider
		username, password string
		wantErr            error
	}{
		{name: "right password", provider: s, username: "alice", password: "wonderland"},
		{name: "user without claims", provider: s, username: "bob", password: "builder"},
		{name: "wrong password", provider: s, username: "alice", password: "builder", wantErr: idp.ErrBadCredentials},
		{name: "empty password", provider: s, username: "alice", password: "", wantErr: idp.ErrBadCredentials},
		{name: "unknown user", provider: s, username: "mallory", password: "wonderland", wantErr: idp.ErrBadCredentials},
		{name: "username is case sensitive", provider: s, username: "Alice", password: "wonderland", wantErr: idp.ErrBadCredentials},
		{name: "72-byte password", provider: s2, username: "carol", password: long},
		{name: "bytes past 72 are not ignored", provider: s2, username: "carol", password: long + "extra", wantErr: idp.ErrBadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.provider.Authenticate(context.Background(), tt.username, tt.password)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || id != nil {
					t.Fatalf("got (%v, %v), want %v", id, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if id.Subject != tt.username || id.Provider != tt.provider.ID() ||
				id.Claims["sub"] != tt.username || id.Claims["preferred_username"] != tt.username {
				t.Errorf("identity = %+v", id)
			}
		})
	}
}

func TestStaticClaimsAreCopies(t *testing.T) {
	s, err := New(Config{ID: "demo", Users: []User{{
		Username: "alice", PasswordHash: mustHash(t, "pw"),
		Claims: map[string]any{"groups": []any{"admins"}, "profile": map[string]any{"team": "a"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Authenticate(context.Background(), "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	first.Claims["groups"].([]any)[0] = "root"
	first.Claims["profile"].(map[string]any)["team"] = "b"
	second, err := s.Authenticate(context.Background(), "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if second.Claims["groups"].([]any)[0] != "admins" || second.Claims["profile"].(map[string]any)["team"] != "a" {
		t.Fatalf("configured claims were changed through an identity: %v", second.Claims)
	}
}

func TestNewStaticValidation(t *testing.T) {
	good := mustHash(t, "pw")
	tests := []struct {
		name  string
		cfg   Config
		valid bool
	}{
		{name: "valid", cfg: Config{ID: "d", Users: []User{{Username: "a", PasswordHash: good}}}, valid: true},
		{name: "$2y$ prefix accepted", cfg: Config{ID: "d", Users: []User{{Username: "a", PasswordHash: "$2y$" + good[4:]}}}, valid: true},
		{name: "plaintext password", cfg: Config{ID: "d", Users: []User{{Username: "a", PasswordHash: "hunter2"}}}},
		{name: "sha256 crypt", cfg: Config{ID: "d", Users: []User{{Username: "a", PasswordHash: "$5$salt$abcdef"}}}},
		{name: "truncated bcrypt", cfg: Config{ID: "d", Users: []User{{Username: "a", PasswordHash: good[:20]}}}},
		{name: "duplicate usernames", cfg: Config{ID: "d", Users: []User{{Username: "a", PasswordHash: good}, {Username: "a", PasswordHash: good}}}},
		{name: "empty username", cfg: Config{ID: "d", Users: []User{{Username: "", PasswordHash: good}}}},
		{name: "no users", cfg: Config{ID: "d"}},
		{name: "no id", cfg: Config{Users: []User{{Username: "a", PasswordHash: good}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg)
			if tt.valid {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if s.Type() != "static" || !s.IsDemo() {
					t.Errorf("Type/IsDemo = %q/%v", s.Type(), s.IsDemo())
				}
				return
			}
			if !errors.Is(err, idp.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != passwordHashCost {
		t.Fatalf("cost = %d, %v", cost, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("correct horse")) != nil {
		t.Fatal("hash does not verify its password")
	}
	if _, err := HashPassword(""); err == nil {
		t.Error("empty password accepted")
	}
	if _, err := HashPassword(strings.Repeat("x", 73)); err == nil {
		t.Error("password over 72 bytes accepted")
	}
}
