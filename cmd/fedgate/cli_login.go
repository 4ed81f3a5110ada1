package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// loginOptions are `fedgate login`'s flags.
type loginOptions struct {
	gateway, pool, provider string
	device, noBrowser       bool
	timeout                 time.Duration
}

func (c *cli) cmdLogin(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	var o loginOptions
	fs.StringVar(&o.gateway, "gateway", c.env.get("FEDGATE_GATEWAY"), "gateway URL (default $FEDGATE_GATEWAY)")
	fs.StringVar(&o.pool, "pool", "", "pool id or name (needed when the gateway has several)")
	fs.StringVar(&o.provider, "provider", "", "identity provider (needed when the pool accepts several)")
	fs.BoolVar(&o.device, "device", false, "sign in on another device with a code (RFC 8628)")
	fs.BoolVar(&o.noBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "how long to wait for the sign-in")
	if fs.Parse(args) != nil {
		return 2
	}
	gateway, err := normalizeGateway(o.gateway)
	if err != nil {
		return c.fail("login", err)
	}
	o.gateway = gateway
	dirs, err := dirsFrom(c.env)
	if err != nil {
		return c.fail("login", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	g := newGatewayClient(gateway, "")
	if err := c.resolveTarget(ctx, g, &o); err != nil {
		return c.fail("login", err)
	}
	if !o.device && !o.noBrowser && !browserAvailable(c.env) {
		fmt.Fprintln(c.stderr, "No browser found here; signing in with a code on another device instead.")
		o.device = true
	}
	var tok tokenAnswer
	if o.device {
		tok, err = c.deviceLogin(ctx, g, o)
	} else {
		tok, err = c.loopbackLogin(ctx, g, o)
	}
	if err != nil {
		return c.fail("login", err)
	}
	exp, err := time.Parse(time.RFC3339, tok.ExpiresAt)
	if err != nil || tok.AccessToken == "" {
		return c.fail("login", errors.New("the gateway answered without a session"))
	}
	sess := &savedSession{Gateway: gateway, AccessToken: tok.AccessToken, SessionID: tok.SessionID, ExpiresAt: exp, Pool: tok.Pool, Provider: tok.Provider, User: tok.User}
	if err := dirs.saveSession(sess); err != nil {
		return c.fail("login", fmt.Errorf("saving the session: %w", err))
	}
	// Credentials cached under an earlier session stay valid until they
	// expire; a new sign-in is a good moment to drop them anyway.
	_ = dirs.removeGatewayCache(gateway)
	fmt.Fprintf(c.stderr, "Signed in to %s as %s (pool %s). The session lasts until %s.\n", gateway, tok.User, tok.Pool, exp.Local().Format(time.DateTime))
	return 0
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresAt   string `json:"expires_at"`
	SessionID   string `json:"session_id"`
	Pool        string `json:"pool"`
	Provider    string `json:"provider"`
	User        string `json:"user"`
}

// resolveTarget checks the pool and provider before any browser opens,
// filling them in when the gateway leaves one choice and listing the
// choices otherwise.
func (c *cli) resolveTarget(ctx context.Context, g *gatewayClient, o *loginOptions) error {
	var out struct {
		Pools []struct {
			ID          string   `json:"id"`
			Name        string   `json:"name"`
			DisplayName string   `json:"display_name"`
			Providers   []string `json:"providers"`
		} `json:"pools"`
	}
	if err := g.do(ctx, http.MethodGet, "/cli/pools", nil, &out); err != nil {
		return err
	}
	var names []string
	for _, p := range out.Pools {
		names = append(names, p.Name+" ("+p.DisplayName+")")
	}
	if o.pool == "" && len(out.Pools) != 1 {
		return fmt.Errorf("this gateway has %d pools; choose one with --pool: %s", len(out.Pools), strings.Join(names, ", "))
	}
	for _, p := range out.Pools {
		if o.pool != "" && o.pool != p.ID && o.pool != p.Name {
			continue
		}
		o.pool = p.ID
		switch {
		case o.provider == "" && len(p.Providers) == 1:
			o.provider = p.Providers[0]
		case o.provider == "":
			return fmt.Errorf("the pool %s accepts several identity providers; choose one with --provider: %s", p.Name, strings.Join(p.Providers, ", "))
		case !slices.Contains(p.Providers, o.provider):
			return fmt.Errorf("the pool %s does not accept the provider %q; it accepts: %s", p.Name, o.provider, strings.Join(p.Providers, ", "))
		}
		return nil
	}
	return fmt.Errorf("this gateway has no pool %q; it has: %s", o.pool, strings.Join(names, ", "))
}

func randomURLSafe(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// loopbackLogin is RFC 8252: a one-shot listener on 127.0.0.1, PKCE S256
// and a state, then the code is exchanged at /cli/token.
func (c *cli) loopbackLogin(ctx context.Context, g *gatewayClient, o loginOptions) (tokenAnswer, error) {
	verifier, err := randomURLSafe(32)
	if err != nil {
		return tokenAnswer{}, err
	}
	state, err := randomURLSafe(24)
	if err != nil {
		return tokenAnswer{}, err
	}
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return tokenAnswer{}, fmt.Errorf("opening a loopback port for the browser: %w", err)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", ln.Addr().(*net.TCPAddr).Port)
	type result struct {
		code string
		err  error
	}
	results := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		// A request without this sign-in's state is not the answer: refuse
		// it and keep waiting, so another local program cannot end the login.
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			http.Error(w, "this is not the sign-in fedgate is waiting for", http.StatusBadRequest)
			return
		}
		var res result
		switch {
		case q.Get("error") != "":
			res.err = fmt.Errorf("the gateway refused the sign-in: %s", q.Get("error"))
		case q.Get("code") == "":
			res.err = errors.New("the browser came back without a code")
		default:
			res.code = q.Get("code")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		msg := "You are signed in. You can close this window and return to your terminal."
		if res.err != nil {
			msg = "Sign-in failed: " + res.err.Error()
		}
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fedgate</title></head>`+
			`<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto"><h1>fedgate</h1><p id="result">%s</p></body></html>`, html.EscapeString(msg))
		select {
		case results <- res:
		default:
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	host, _ := os.Hostname()
	q := url.Values{
		"pool": {o.pool}, "redirect_uri": {redirect}, "state": {state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "client_name": {"fedgate CLI on " + host},
	}
	if o.provider != "" {
		q.Set("provider", o.provider)
	}
	authURL := g.base + "/cli/authorize?" + q.Encode()
	if o.noBrowser || openBrowser(c.env, authURL) != nil {
		fmt.Fprintf(c.stderr, "Open this URL in a browser on this computer to sign in:\n\n  %s\n\n", authURL)
	} else {
		fmt.Fprintf(c.stderr, "Your browser has been opened to sign in. If it did not open, visit:\n\n  %s\n\n", authURL)
	}
	var res result
	select {
	case res = <-results:
	case <-ctx.Done():
		return tokenAnswer{}, errors.New("timed out waiting for the browser sign-in")
	}
	if res.err != nil {
		return tokenAnswer{}, res.err
	}
	var tok tokenAnswer
	err = g.do(ctx, http.MethodPost, "/cli/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {res.code}, "code_verifier": {verifier}, "redirect_uri": {redirect},
	}, &tok)
	return tok, err
}

// deviceLogin is RFC 8628: show a code, let the person approve it in any
// browser, poll at the interval the gateway sets (slower on slow_down).
func (c *cli) deviceLogin(ctx context.Context, g *gatewayClient, o loginOptions) (tokenAnswer, error) {
	host, _ := os.Hostname()
	form := url.Values{"pool": {o.pool}, "client_name": {"fedgate CLI on " + host}}
	if o.provider != "" {
		form.Set("provider", o.provider)
	}
	var da struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURIComplete string `json:"verification_uri_complete"`
		ExpiresIn               int    `json:"expires_in"`
		Interval                int    `json:"interval"`
	}
	if err := g.do(ctx, http.MethodPost, "/cli/device", form, &da); err != nil {
		return tokenAnswer{}, err
	}
	fmt.Fprintf(c.stderr, "To sign in, open %s in any browser and enter the code:\n\n    %s\n\n", da.VerificationURI, da.UserCode)
	fmt.Fprintf(c.stderr, "Waiting for approval (the code expires in %d minutes)...\n", max(1, da.ExpiresIn/60))
	interval := time.Duration(max(da.Interval, 1)) * time.Second
	for {
		select {
		case <-ctx.Done():
			return tokenAnswer{}, errors.New("timed out waiting for the approval")
		case <-time.After(interval):
		}
		var tok tokenAnswer
		err := g.do(ctx, http.MethodPost, "/cli/token", url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode},
		}, &tok)
		var ge *gatewayError
		switch {
		case err == nil:
			return tok, nil
		case errors.As(err, &ge) && ge.OAuthError == "authorization_pending":
		case errors.As(err, &ge) && ge.OAuthError == "slow_down":
			interval += 5 * time.Second // RFC 8628 §3.5
		case errors.As(err, &ge) && ge.OAuthError == "expired_token":
			return tokenAnswer{}, errors.New("the code expired before it was approved; run fedgate login again")
		case errors.As(err, &ge) && ge.OAuthError == "access_denied":
			return tokenAnswer{}, errors.New("the sign-in was denied in the browser")
		default:
			return tokenAnswer{}, err
		}
	}
}

// browserAvailable guesses whether openBrowser can show something here.
func browserAvailable(env environ) bool {
	if env.get("BROWSER") != "" {
		return true
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return true
	}
	if env.get("DISPLAY") == "" && env.get("WAYLAND_DISPLAY") == "" {
		return false
	}
	_, err := exec.LookPath("xdg-open")
	return err == nil
}

// openBrowser starts the person's browser on u without waiting for it.
func openBrowser(env environ, u string) error {
	var cmd *exec.Cmd
	switch {
	case env.get("BROWSER") != "":
		cmd = exec.Command(env.get("BROWSER"), u)
	case runtime.GOOS == "darwin":
		cmd = exec.Command("open", u)
	case runtime.GOOS == "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		if !browserAvailable(env) {
			return errors.New("no browser")
		}
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
