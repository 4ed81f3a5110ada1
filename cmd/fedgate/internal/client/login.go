package client

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"fedgate/gateway/wire"
)

// LoginOptions are what `fedgate login` signs in to, and how.
type LoginOptions struct {
	Gateway string
	// Pool and Provider may be left empty when the gateway leaves one choice.
	Pool, Provider string
	// Device signs in on another device with a code (RFC 8628); NoBrowser
	// prints the loopback sign-in URL instead of opening a browser.
	Device, NoBrowser bool
	Timeout           time.Duration // for the whole sign-in
}

// Login signs in, saves the CLI session and drops credentials cached under
// an earlier one.
func (c *Client) Login(ctx context.Context, o LoginOptions) error {
	gateway, err := normalizeGateway(o.Gateway)
	if err != nil {
		return err
	}
	o.Gateway = gateway
	dirs, err := c.dirs()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	g := c.gateway(gateway, "")
	if err := resolveTarget(ctx, g, &o); err != nil {
		return err
	}
	if !o.Device && !o.NoBrowser && !c.browserAvailable() {
		fmt.Fprintln(c.stderr, "No browser found here; signing in with a code on another device instead.")
		o.Device = true
	}
	var tok wire.CLIToken
	if o.Device {
		tok, err = c.deviceLogin(ctx, g, o)
	} else {
		tok, err = c.loopbackLogin(ctx, g, o)
	}
	if err != nil {
		if ctx.Err() != nil {
			return stopped(ctx, o)
		}
		return err
	}
	exp, err := time.Parse(time.RFC3339, tok.ExpiresAt)
	if err != nil || tok.AccessToken == "" {
		return errors.New("the gateway answered without a session")
	}
	sess := &savedSession{Gateway: gateway, AccessToken: tok.AccessToken, SessionID: tok.SessionID, ExpiresAt: exp, Pool: tok.Pool, Provider: tok.Provider, User: tok.User}
	if err := dirs.saveSession(sess); err != nil {
		return fmt.Errorf("saving the session: %w", err)
	}
	// Credentials cached under an earlier session stay valid until they
	// expire; a new sign-in is a good moment to drop them anyway.
	_ = dirs.removeGatewayCache(gateway)
	fmt.Fprintf(c.stderr, "Signed in to %s as %s (pool %s). The session lasts until %s.\n", gateway, tok.User, tok.Pool, exp.Local().Format(time.DateTime))
	return nil
}

// stillWaitingEvery is how often a login that waits for the browser says
// so, with what to do when the browser is stuck.
const stillWaitingEvery = time.Minute

// stopped says why a sign-in ended before it finished: the person pressed
// Ctrl-C (the command's context was cancelled), or --timeout ran out.
func stopped(ctx context.Context, o LoginOptions) error {
	what := "the browser sign-in"
	if o.Device {
		what = "the approval"
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s waiting for %s; run fedgate login again (--timeout sets how long to wait)", o.Timeout, what)
	}
	return fmt.Errorf("interrupted while waiting for %s", what)
}

// resolveTarget checks the pool and provider before any browser opens,
// filling them in when the gateway leaves one choice and listing the
// choices otherwise.
func resolveTarget(ctx context.Context, g *gatewayClient, o *LoginOptions) error {
	var out wire.CLIPoolList
	if err := g.do(ctx, http.MethodGet, "/cli/pools", nil, &out); err != nil {
		return err
	}
	var names []string
	for _, p := range out.Pools {
		names = append(names, p.Name+" ("+p.DisplayName+")")
	}
	if o.Pool == "" && len(out.Pools) != 1 {
		return fmt.Errorf("this gateway has %d pools; choose one with --pool: %s", len(out.Pools), strings.Join(names, ", "))
	}
	for _, p := range out.Pools {
		if o.Pool != "" && o.Pool != p.ID && o.Pool != p.Name {
			continue
		}
		o.Pool = p.ID
		switch {
		case o.Provider == "" && len(p.Providers) == 1:
			o.Provider = p.Providers[0]
		case o.Provider == "":
			return fmt.Errorf("the pool %s accepts several identity providers; choose one with --provider: %s", p.Name, strings.Join(p.Providers, ", "))
		case !slices.Contains(p.Providers, o.Provider):
			return fmt.Errorf("the pool %s does not accept the provider %q; it accepts: %s", p.Name, o.Provider, strings.Join(p.Providers, ", "))
		}
		return nil
	}
	return fmt.Errorf("this gateway has no pool %q; it has: %s", o.Pool, strings.Join(names, ", "))
}

func randomURLSafe(random io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// loopbackLogin is RFC 8252: a one-shot listener on 127.0.0.1, PKCE S256
// and a state, then the code is exchanged at /cli/token.
func (c *Client) loopbackLogin(ctx context.Context, g *gatewayClient, o LoginOptions) (wire.CLIToken, error) {
	verifier, err := randomURLSafe(c.rand, 32)
	if err != nil {
		return wire.CLIToken{}, err
	}
	state, err := randomURLSafe(c.rand, 24)
	if err != nil {
		return wire.CLIToken{}, err
	}
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return wire.CLIToken{}, fmt.Errorf("opening a loopback port for the browser: %w", err)
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
			why := q.Get("error_description")
			if why == "" {
				why = q.Get("error")
			}
			res.err = fmt.Errorf("the gateway refused the sign-in: %s", why)
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
		page := fmt.Sprintf(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fedgate</title></head>`+
			`<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto"><h1>fedgate</h1><p id="result">%s</p></body></html>`, html.EscapeString(msg))
		// The whole page goes out before the result is handed over: the
		// login then returns and closes this server at once.
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
		_, _ = io.WriteString(w, page)
		_ = http.NewResponseController(w).Flush()
		select {
		case results <- res:
		default:
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	host, _ := os.Hostname()
	q := url.Values{
		"pool": {o.Pool}, "redirect_uri": {redirect}, "state": {state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "client_name": {"fedgate CLI on " + host},
	}
	if o.Provider != "" {
		q.Set("provider", o.Provider)
	}
	authURL := g.base + "/cli/authorize?" + q.Encode()
	if o.NoBrowser || c.openBrowser(authURL) != nil {
		fmt.Fprintf(c.stderr, "Open this URL in a browser on this computer to sign in:\n\n  %s\n\n", authURL)
	} else {
		fmt.Fprintf(c.stderr, "Your browser has been opened to sign in. If it did not open, visit:\n\n  %s\n\n", authURL)
	}
	fmt.Fprintf(c.stderr, "Waiting for the browser to come back to %s (Ctrl-C to stop).\n", redirect)
	var res result
	for waiting := true; waiting; {
		select {
		case res = <-results:
			waiting = false
		case <-ctx.Done():
			return wire.CLIToken{}, stopped(ctx, o)
		case <-c.after(stillWaitingEvery):
			fmt.Fprintf(c.stderr, "Still waiting for the browser. If it shows an error, or the sign-in page again, this sign-in cannot finish:\n"+
				"press Ctrl-C and run fedgate login --device --gateway %s instead.\n", g.base)
		}
	}
	if res.err != nil {
		return wire.CLIToken{}, res.err
	}
	var tok wire.CLIToken
	err = g.do(ctx, http.MethodPost, "/cli/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {res.code}, "code_verifier": {verifier}, "redirect_uri": {redirect},
	}, &tok)
	return tok, err
}

// deviceLogin is RFC 8628: show a code, let the person approve it in any
// browser, poll at the interval the gateway sets (slower on slow_down).
func (c *Client) deviceLogin(ctx context.Context, g *gatewayClient, o LoginOptions) (wire.CLIToken, error) {
	host, _ := os.Hostname()
	form := url.Values{"pool": {o.Pool}, "client_name": {"fedgate CLI on " + host}}
	if o.Provider != "" {
		form.Set("provider", o.Provider)
	}
	var da wire.DeviceAuthorization
	if err := g.do(ctx, http.MethodPost, "/cli/device", form, &da); err != nil {
		return wire.CLIToken{}, err
	}
	fmt.Fprintf(c.stderr, "To sign in, open %s in any browser and enter the code:\n\n    %s\n\n", da.VerificationURI, da.UserCode)
	fmt.Fprintf(c.stderr, "Waiting for approval (the code expires in %d minutes)...\n", max(1, da.ExpiresIn/60))
	interval := time.Duration(max(da.Interval, 1)) * time.Second
	for {
		select {
		case <-ctx.Done():
			return wire.CLIToken{}, stopped(ctx, o)
		case <-c.after(interval):
		}
		var tok wire.CLIToken
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
			return wire.CLIToken{}, errors.New("the code expired before it was approved; run fedgate login again")
		case errors.As(err, &ge) && ge.OAuthError == "access_denied":
			why := "the sign-in was denied in the browser"
			if ge.Desc != "" {
				why = ge.Desc
			}
			return wire.CLIToken{}, fmt.Errorf("the gateway refused the sign-in: %s", why)
		default:
			return wire.CLIToken{}, err
		}
	}
}

// browserAvailable guesses whether openBrowser can show something here.
func (c *Client) browserAvailable() bool {
	if c.getenv("BROWSER") != "" {
		return true
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return true
	}
	if c.getenv("DISPLAY") == "" && c.getenv("WAYLAND_DISPLAY") == "" {
		return false
	}
	_, err := exec.LookPath("xdg-open")
	return err == nil
}

// openBrowser starts the person's browser on u without waiting for it.
func (c *Client) openBrowser(u string) error {
	var cmd *exec.Cmd
	switch {
	case c.getenv("BROWSER") != "":
		cmd = exec.Command(c.getenv("BROWSER"), u)
	case runtime.GOOS == "darwin":
		cmd = exec.Command("open", u)
	case runtime.GOOS == "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		if !c.browserAvailable() {
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
