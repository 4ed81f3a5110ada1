package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/testkit"
	"fedgate/gateway/wire"
)

// While `fedgate login` waits on its loopback port, a request without the
// sign-in's state (another local program) is refused and ignored; the
// gateway's error=access_denied then ends the login at once with a clear
// message.
func TestLoopbackLoginIgnoresStrangersAndStopsOnRefusal(t *testing.T) {
	var stderr testkit.LogBuffer // read while the CLI prints
	c := newTestClient(t.TempDir(), &bytes.Buffer{}, &stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type outcome struct{ err error }
	done := make(chan outcome, 1)
	go func() {
		_, err := c.loopbackLogin(ctx, c.gateway("https://fedgate.example.com", ""), LoginOptions{Pool: "team", NoBrowser: true})
		done <- outcome{err}
	}()

	authURL := regexp.MustCompile(`https://fedgate\.example\.com/cli/authorize\?\S+`)
	var auth *url.URL
	for deadline := time.Now().Add(10 * time.Second); auth == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := authURL.FindString(stderr.String()); m != "" {
			auth, _ = url.Parse(m)
		}
	}
	if auth == nil {
		t.Fatalf("the CLI printed no sign-in URL:\n%s", stderr.String())
	}
	redirect, state := auth.Query().Get("redirect_uri"), auth.Query().Get("state")

	resp, err := http.Get(redirect + "?state=not-the-state&code=planted")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a request with another state: HTTP %d, want 400", resp.StatusCode)
	}
	select {
	case o := <-done:
		t.Fatalf("a stranger's request ended the login: %v", o.err)
	case <-time.After(200 * time.Millisecond):
	}

	resp, err = http.Get(redirect + "?" + url.Values{"state": {state}, "error": {"access_denied"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case o := <-done:
		if o.err == nil || !strings.Contains(o.err.Error(), "refused") {
			t.Errorf("login after the gateway's refusal: %v, want a refusal", o.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the login kept waiting after the gateway refused the sign-in")
	}
}

// The device flow polls at the gateway's interval and slows down by five
// seconds on slow_down (RFC 8628 §3.5), on the injected clock.
func TestDeviceLoginPollsAtTheGatewaysPace(t *testing.T) {
	answers := []any{
		wire.OAuthError{Error: "authorization_pending"},
		wire.OAuthError{Error: "slow_down"},
		wire.OAuthError{Error: "authorization_pending"},
		wire.CLIToken{AccessToken: "fgcli_x", ExpiresAt: "2099-01-01T00:00:00Z", User: "alice"},
	}
	var polls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cli/device":
			_ = json.NewEncoder(w).Encode(wire.DeviceAuthorization{DeviceCode: "dc", UserCode: "ABCD-EFGH", VerificationURI: "https://gw/device", ExpiresIn: 600, Interval: 2})
		case "/cli/token":
			if r.FormValue("device_code") != "dc" {
				http.Error(w, "wrong device code", http.StatusBadRequest)
				return
			}
			answer := answers[polls]
			polls++
			if _, pending := answer.(wire.OAuthError); pending {
				w.WriteHeader(http.StatusBadRequest)
			}
			_ = json.NewEncoder(w).Encode(answer)
		}
	}))
	defer srv.Close()
	var waits []time.Duration
	var stderr bytes.Buffer
	c := newTestClient(t.TempDir(), &bytes.Buffer{}, &stderr)
	c.after = func(d time.Duration) <-chan time.Time {
		waits = append(waits, d)
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	tok, err := c.deviceLogin(context.Background(), c.gateway(srv.URL, ""), LoginOptions{Pool: "team"})
	if err != nil || tok.AccessToken != "fgcli_x" {
		t.Fatalf("deviceLogin = %+v, %v", tok, err)
	}
	want := []time.Duration{2 * time.Second, 2 * time.Second, 7 * time.Second, 7 * time.Second}
	if !slices.Equal(waits, want) {
		t.Errorf("waited %v, want %v", waits, want)
	}
	if !strings.Contains(stderr.String(), "ABCD-EFGH") || !strings.Contains(stderr.String(), "https://gw/device") {
		t.Errorf("the code and where to enter it were not shown:\n%s", stderr.String())
	}
}
