package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer lets the test read what the CLI prints while it waits.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// While `fedgate login` waits on its loopback port, a request without the
// sign-in's state (another local program) is refused and ignored; the
// gateway's error=access_denied then ends the login at once with a clear
// message.
func TestLoopbackLoginIgnoresStrangersAndStopsOnRefusal(t *testing.T) {
	var stderr syncBuffer
	env := environ{lookup: func(string) (string, bool) { return "", false }}
	c := newCLI(env, &bytes.Buffer{}, &stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type outcome struct{ err error }
	done := make(chan outcome, 1)
	go func() {
		_, err := c.loopbackLogin(ctx, newGatewayClient("https://fedgate.example.com", ""), loginOptions{pool: "team", noBrowser: true})
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
