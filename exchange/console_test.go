package exchange

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestConsoleSessionDuration(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{0, 15 * time.Minute},
		{-time.Hour, 15 * time.Minute},
		{14 * time.Minute, 15 * time.Minute},
		{time.Hour, time.Hour},
		{12 * time.Hour, 12 * time.Hour},
		{36 * time.Hour, 12 * time.Hour},
	}
	for _, tt := range tests {
		if got := ConsoleSessionDuration(tt.in); got != tt.want {
			t.Errorf("ConsoleSessionDuration(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestConsoleLoginURL(t *testing.T) {
	creds := &Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "s3cr3t/+=", SessionToken: "tok&en=1"}
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query()
		if r.Method != http.MethodGet || r.URL.Path != "/federation" {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(`{"SigninToken":"tkn"}`))
	}))
	defer srv.Close()
	c := ConsoleSignIn{Endpoint: srv.URL + "/federation", HTTP: srv.Client()}
	u, err := c.LoginURL(context.Background(), ConsoleRequest{Credentials: creds, Duration: 2 * time.Hour, Issuer: "https://fedgate.example.com/", Destination: "https://console.aws.amazon.com/s3/"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("Action") != "getSigninToken" || got.Get("SessionDuration") != "7200" {
		t.Errorf("getSigninToken query = %v", got)
	}
	var session map[string]string
	if err := json.Unmarshal([]byte(got.Get("Session")), &session); err != nil ||
		session["sessionId"] != creds.AccessKeyID || session["sessionKey"] != creds.SecretAccessKey || session["sessionToken"] != creds.SessionToken || len(session) != 3 {
		t.Errorf("Session = %q (%v)", got.Get("Session"), err)
	}
	login, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"Action": {"login"}, "Issuer": {"https://fedgate.example.com/"}, "Destination": {"https://console.aws.amazon.com/s3/"}, "SigninToken": {"tkn"}}
	if login.Scheme+"://"+login.Host+login.Path != srv.URL+"/federation" || login.Query().Encode() != want.Encode() {
		t.Errorf("login URL = %s", u)
	}
}

func TestConsoleLoginURLFailures(t *testing.T) {
	creds := &Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "s3cr3t", SessionToken: "session-token-secret"}
	answers := map[string]func(w http.ResponseWriter){
		"HTTP 400": func(w http.ResponseWriter) { http.Error(w, "bad", http.StatusBadRequest) },
		"no token": func(w http.ResponseWriter) { _, _ = w.Write([]byte(`{}`)) },
		"not JSON": func(w http.ResponseWriter) { _, _ = w.Write([]byte(`<html>`)) },
		"oversized answer": func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"SigninToken":"` + strings.Repeat("a", 70<<10) + `"}`))
		},
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { answer(w) }))
			defer srv.Close()
			_, err := ConsoleSignIn{Endpoint: srv.URL, HTTP: srv.Client()}.LoginURL(context.Background(), ConsoleRequest{Credentials: creds})
			if err == nil || !strings.Contains(err.Error(), ErrConsole.Error()) {
				t.Errorf("err = %v, want ErrConsole", err)
			}
		})
	}
	t.Run("unreachable endpoint does not leak the session", func(t *testing.T) {
		_, err := ConsoleSignIn{Endpoint: "http://127.0.0.1:1/federation", HTTP: &http.Client{Timeout: time.Second}}.LoginURL(context.Background(), ConsoleRequest{Credentials: creds})
		if err == nil || strings.Contains(err.Error(), "session-token-secret") || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("err = %v: want an error without the credentials", err)
		}
	})
	t.Run("long-term keys refused", func(t *testing.T) {
		_, err := ConsoleSignIn{Endpoint: "http://127.0.0.1:1/", HTTP: http.DefaultClient}.LoginURL(context.Background(), ConsoleRequest{Credentials: &Credentials{AccessKeyID: "AKIA", SecretAccessKey: "x"}})
		if err == nil {
			t.Error("credentials without a session token were accepted")
		}
	})
}
