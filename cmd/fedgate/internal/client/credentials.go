package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"fedgate/exchange"
	"fedgate/gateway/wire"
)

// RoleOptions name the credentials a command needs.
type RoleOptions struct {
	Gateway string
	Pool    string // empty: the pool the session signed in through
	Role    string // role ARN; empty when the rules give one role
	// Duration is the credentials' lifetime in seconds; 0 for the pool's.
	Duration int
	// RefreshBefore: cached credentials expiring within this are fetched anew.
	RefreshBefore time.Duration
}

// credentials returns valid credentials for a role: from the encrypted
// cache when they have more than RefreshBefore left, else from the
// gateway, under the cache's lock so parallel callers vend once. It never
// starts a sign-in; its errors say to sign in when that is the fix.
func (c *Client) credentials(ctx context.Context, o RoleOptions) (string, *exchange.Credentials, error) {
	gateway, err := normalizeGateway(o.Gateway)
	if err != nil {
		return "", nil, err
	}
	creds, err := c.cachedOrFresh(ctx, gateway, o)
	return gateway, creds, roleHint(loginHint(gateway, err))
}

// roleHint turns the API's "name one with role_arn" into the CLI's flag,
// listing the roles to choose from.
func roleHint(err error) error {
	var ge *gatewayError
	if !errors.As(err, &ge) || ge.Code != "role_required" || len(ge.Roles) == 0 {
		return err
	}
	return fmt.Errorf("several roles are open to you; choose one with --role ARN:\n  %s", strings.Join(ge.Roles, "\n  "))
}

func (c *Client) cachedOrFresh(ctx context.Context, gateway string, o RoleOptions) (*exchange.Credentials, error) {
	dirs, err := c.dirs()
	if err != nil {
		return nil, err
	}
	sess, err := dirs.loadSession(gateway, c.now())
	if err != nil {
		return nil, err
	}
	cache, err := c.cacheFor(dirs, gateway, o.Pool, o.Role, o.Duration)
	if err != nil {
		return nil, err
	}
	unlock, err := cache.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cached, err := cache.read()
	if errors.Is(err, errCacheUnreadable) {
		fmt.Fprintf(c.stderr, "fedgate: the cached credentials in %s could not be decrypted (tampered with or damaged); discarding them and fetching new ones\n", cache.path)
		if err := cache.discard(); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if cached != nil && cached.Expiration.Sub(c.now()) > o.RefreshBefore {
		return cached, nil
	}
	var got wire.Credentials
	req := wire.CredentialsRequest{Pool: o.Pool, RoleARN: o.Role, DurationSeconds: o.Duration}
	if err := c.gateway(gateway, sess.AccessToken).do(ctx, http.MethodPost, "/cli/credentials", req, &got); err != nil {
		return nil, err
	}
	fresh, err := exchange.FromAPI(got)
	if err != nil {
		return nil, errors.New("the gateway answered credentials without a key or an expiration")
	}
	if err := cache.write(got); err != nil {
		fmt.Fprintf(c.stderr, "fedgate: could not cache credentials: %v\n", err)
	}
	return fresh, nil
}

// CredentialProcess prints the AWS CLI credential_process JSON.
func (c *Client) CredentialProcess(ctx context.Context, o RoleOptions) error {
	_, creds, err := c.credentials(ctx, o)
	if err != nil {
		return err
	}
	out, err := exchange.ProcessJSON(creds)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, string(out))
	return nil
}

// Env prints export lines for tools that read the environment.
func (c *Client) Env(ctx context.Context, o RoleOptions) error {
	_, creds, err := c.credentials(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprint(c.stdout, exchange.ExportLines(creds))
	return nil
}

// Exec runs argv with the credentials in its environment and returns its
// exit code; the error is for when it could not run at all.
func (c *Client) Exec(ctx context.Context, o RoleOptions, argv []string) (int, error) {
	if len(argv) == 0 {
		return 0, errors.New("no command to run")
	}
	_, creds, err := c.credentials(ctx, o)
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.stdin, c.stdout, c.stderr
	cmd.Env = credentialEnv(c.environ, creds)
	return exitCode(cmd.Run())
}

// credentialEnv replaces any AWS credential or profile variables: with a
// profile set, the AWS SDKs would ignore the credentials.
func credentialEnv(base []string, creds *exchange.Credentials) []string {
	return append(withoutAWSCredentials(base),
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_SESSION_TOKEN="+creds.SessionToken,
		"AWS_CREDENTIAL_EXPIRATION="+creds.Expiration.UTC().Format(time.RFC3339))
}

// withoutAWSCredentials drops the variables that name credentials, a
// profile or a credentials endpoint: each would come before, or instead
// of, the credentials fedgate gives a command.
func withoutAWSCredentials(base []string) []string {
	drop := map[string]bool{"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
		"AWS_SECURITY_TOKEN": true, "AWS_CREDENTIAL_EXPIRATION": true, "AWS_PROFILE": true, "AWS_DEFAULT_PROFILE": true,
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": true, envContainerURI: true, envContainerToken: true,
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": true, "AWS_WEB_IDENTITY_TOKEN_FILE": true, "AWS_ROLE_ARN": true}
	out := make([]string, 0, len(base)+4)
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if !drop[name] {
			out = append(out, kv)
		}
	}
	return out
}

// ConsoleOptions are the role and where `fedgate console` signs in.
type ConsoleOptions struct {
	RoleOptions
	// FederationURL and Destination, when empty, are the gateway's
	// console.federation_url and console.destination.
	FederationURL string // the AWS federation endpoint
	Destination   string // the console page to open
	NoBrowser     bool   // print the URL instead of opening a browser
}

// AWS's own console sign-in, for a gateway that does not say which to use.
const (
	defaultFederationURL      = "https://signin.aws.amazon.com/federation"
	defaultConsoleDestination = "https://console.aws.amazon.com/"
)

// consoleTarget fills in the federation endpoint and destination the
// gateway is set up for, where the command line named none. The endpoint
// receives the credentials, so it must be https (http only on loopback).
func (c *Client) consoleTarget(ctx context.Context, gateway string, o *ConsoleOptions) error {
	if o.FederationURL == "" || o.Destination == "" {
		var out wire.CLIPoolList
		if err := c.gateway(gateway, "").do(ctx, http.MethodGet, "/cli/pools", nil, &out); err != nil {
			return err
		}
		if out.Console == nil {
			out.Console = &wire.CLIConsole{}
		}
		o.FederationURL = cmp.Or(o.FederationURL, out.Console.FederationURL, defaultFederationURL)
		o.Destination = cmp.Or(o.Destination, out.Console.Destination, defaultConsoleDestination)
	}
	if _, err := normalizeGateway(o.FederationURL); err != nil {
		return fmt.Errorf("the AWS federation endpoint %s must use https (plain http only to this computer)", o.FederationURL)
	}
	return nil
}

// Console builds an AWS console sign-in URL with the role's credentials
// (the client calls the federation endpoint itself) and opens it.
func (c *Client) Console(ctx context.Context, o ConsoleOptions) error {
	gateway, creds, err := c.credentials(ctx, o.RoleOptions)
	if err != nil {
		return err
	}
	if err := c.consoleTarget(ctx, gateway, &o); err != nil {
		return err
	}
	signin := exchange.ConsoleSignIn{Endpoint: o.FederationURL, HTTP: c.http}
	u, err := signin.LoginURL(ctx, exchange.ConsoleRequest{
		Credentials: creds, Duration: creds.Expiration.Sub(c.now()), Issuer: gateway + "/", Destination: o.Destination,
	})
	if err != nil {
		return err
	}
	if o.NoBrowser || c.openBrowser(u) != nil {
		fmt.Fprintln(c.stderr, "Open this URL within 15 minutes to sign in to the AWS console (it is a secret):")
		fmt.Fprintln(c.stdout, u)
		return nil
	}
	fmt.Fprintln(c.stderr, "Opened the AWS console in your browser.")
	return nil
}
