package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fedgate/gateway/testkit"
	"fedgate/gateway/wire"
)

// The messages of the commands: why a login stopped, which roles to pick
// from, where the console signs in, what configure writes.

// A loopback login whose browser never comes back says so while it waits,
// and ends with what stopped it: Ctrl-C (the context cancelled) is
// "interrupted", --timeout is "timed out".
func TestLoopbackLoginSaysWhyItStopped(t *testing.T) {
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc)
		want string
	}{
		{"Ctrl-C", func(cancel context.CancelFunc) { cancel() }, "interrupted while waiting for the browser sign-in"},
		{"timeout", func(context.CancelFunc) {}, "timed out after 300ms waiting for the browser sign-in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr testkit.LogBuffer
			c := newTestClient(t.TempDir(), &bytes.Buffer{}, &stderr)
			reminded := make(chan time.Time, 1)
			reminded <- time.Time{} // the first reminder is due at once, later ones never
			c.after = func(time.Duration) <-chan time.Time { return reminded }
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			o := LoginOptions{Pool: "team", NoBrowser: true, Timeout: 300 * time.Millisecond}
			if tt.name == "Ctrl-C" {
				o.Timeout = time.Minute
			}
			ctx, stop := context.WithTimeout(parent, o.Timeout)
			defer stop()
			done := make(chan error, 1)
			go func() {
				_, err := c.loopbackLogin(ctx, c.gateway("https://fedgate.example.com", ""), o)
				done <- err
			}()
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stderr.String(), "Still waiting") && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			tt.stop(cancel)
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want %q", err, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the login did not stop")
			}
			out := stderr.String()
			if !strings.Contains(out, "Waiting for the browser to come back to http://127.0.0.1:") || !strings.Contains(out, "fedgate login --device --gateway https://fedgate.example.com") {
				t.Errorf("the CLI did not say what it waits for and what to do:\n%s", out)
			}
		})
	}
}

// Several roles: the CLI lists them and names its own flag, not the API's.
func TestSeveralRolesListedWithTheFlag(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(wire.APIError{Code: "role_required", Message: "Several roles are open to you in this pool; name one with role_arn.",
			Roles: []string{"arn:aws:iam::1:role/reader", "arn:aws:iam::1:role/admin"}})
	}))
	defer srv.Close()
	c, _, _, dirs := testClient(t, nil)
	if err := dirs.saveSession(&savedSession{Gateway: srv.URL, AccessToken: "fgcli_test", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	err := c.CredentialProcess(context.Background(), RoleOptions{Gateway: srv.URL, Pool: "picker", RefreshBefore: time.Minute})
	want := "several roles are open to you; choose one with --role ARN:\n  arn:aws:iam::1:role/reader\n  arn:aws:iam::1:role/admin"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "role_arn") {
		t.Errorf("err = %v, want it to contain %q and not the API's role_arn", err, want)
	}
}

// fedgate console signs in where the gateway is set up to
// (console.federation_url, from /cli/pools) unless told otherwise, and
// sends credentials to no plain-http endpoint off this computer.
func TestConsoleUsesTheGatewaysFederationURL(t *testing.T) {
	var federation atomic.Int32
	var mux http.ServeMux
	srv := httptest.NewServer(&mux)
	defer srv.Close()
	console := &wire.CLIConsole{FederationURL: srv.URL + "/federation", Destination: "https://console.example/home"}
	mux.HandleFunc("/cli/pools", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(wire.CLIPoolList{Pools: []wire.CLIPool{}, Console: console})
	})
	mux.HandleFunc("/cli/credentials", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(wire.Credentials{AccessKeyID: "ASIAX", SecretAccessKey: "s", SessionToken: "t", Expiration: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	})
	mux.HandleFunc("/federation", func(w http.ResponseWriter, _ *http.Request) {
		federation.Add(1)
		_, _ = w.Write([]byte(`{"SigninToken":"tok"}`))
	})
	tests := []struct {
		name    string
		console *wire.CLIConsole
		flag    string
		want    string // prefix of the printed URL, or of the error
		wantErr bool
	}{
		{"the gateway's endpoint", console, "", srv.URL + "/federation?Action=login&Destination=https%3A%2F%2Fconsole.example%2Fhome", false},
		{"--federation-url wins", &wire.CLIConsole{FederationURL: "https://unused.example/federation"}, srv.URL + "/federation", srv.URL + "/federation?Action=login&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2F", false},
		{"plain http off this computer", &wire.CLIConsole{FederationURL: "http://signin.example/federation"}, "", "must use https", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			console = tt.console
			c, out, _, dirs := testClient(t, nil)
			if err := dirs.saveSession(&savedSession{Gateway: srv.URL, AccessToken: "fgcli_test", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			before := federation.Load()
			err := c.Console(context.Background(), ConsoleOptions{RoleOptions: RoleOptions{Gateway: srv.URL, RefreshBefore: time.Minute}, FederationURL: tt.flag, NoBrowser: true})
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) || federation.Load() != before {
					t.Errorf("err = %v, federation calls %d; want %q and no call", err, federation.Load()-before, tt.want)
				}
				return
			}
			if err != nil || !strings.HasPrefix(strings.TrimSpace(out.String()), tt.want) || federation.Load() != before+1 {
				t.Errorf("err %v, printed %q, federation calls %d; want %s…", err, out.String(), federation.Load()-before, tt.want)
			}
		})
	}
}

func TestTemporaryGoBuild(t *testing.T) {
	tests := []struct {
		path, gocache string
		want          bool
	}{
		{"/tmp/go-build3418262873/b001/exe/fedgate", "", true},       // go run
		{"/var/folders/x/T/go-build123/b001/exe/fedgate", "", true},  // go run on macOS
		{"/home/a/.cache/go-build/ab/abcdef-d/fedgate", "", true},    // the build cache
		{"/srv/cache/ab/fedgate", "/srv/cache", true},                // GOCACHE set
		{"/home/a/go/bin/fedgate", "/home/a/.cache/go-build", false}, // go install
		{"/usr/local/bin/fedgate", "", false},                        // a release
		{"/tmp/fedgate-bin123/fedgate", "", false},                   // built to a lasting path
		{"/srv/cache-other/fedgate", "/srv/cache", false},            // a sibling of GOCACHE
	}
	for _, tt := range tests {
		if got := temporaryGoBuild(tt.path, tt.gocache); got != tt.want {
			t.Errorf("temporaryGoBuild(%q, %q) = %v, want %v", tt.path, tt.gocache, got, tt.want)
		}
	}
}

func TestProfileCommand(t *testing.T) {
	c, _, _, _ := testClient(t, nil)
	dir := t.TempDir()
	exe, plain := filepath.Join(dir, "fedgate"), filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := c.profileCommand(exe); err != nil || got != exe {
		t.Errorf("--command %s = %q, %v", exe, got, err)
	}
	for _, bad := range []string{plain, dir, filepath.Join(dir, "missing"), "no-such-fedgate-command"} {
		if _, err := c.profileCommand(bad); err == nil || !strings.Contains(err.Error(), "--command "+bad) {
			t.Errorf("--command %s: err = %v, want a refusal naming it", bad, err)
		}
	}
	// go test runs this test from a temporary build, as go run would run fedgate.
	if self, _ := os.Executable(); !temporaryGoBuild(self, "") {
		return
	}
	if _, err := c.profileCommand(""); err == nil || !strings.Contains(err.Error(), "go install ./cmd/fedgate") || !strings.Contains(err.Error(), "--command PATH") {
		t.Errorf("configure from a go build directory: err = %v, want a refusal that says what to do", err)
	}
}
