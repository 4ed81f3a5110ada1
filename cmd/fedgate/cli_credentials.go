package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"fedgate/exchange"
)

// cli is what the client subcommands share: environment, output and clock.
type cli struct {
	env            environ
	stdout, stderr io.Writer
	now            func() time.Time
}

func newCLI(env environ, stdout, stderr io.Writer) *cli {
	return &cli{env: env, stdout: stdout, stderr: stderr, now: time.Now}
}

// fail prints a one-line error and returns exit code 1.
func (c *cli) fail(cmd string, err error) int {
	fmt.Fprintf(c.stderr, "fedgate %s: %v\n", cmd, err)
	return 1
}

// loginHint turns "no session" and "session refused" into the one thing to do.
func loginHint(gateway string, err error) error {
	var ge *gatewayError
	if errors.Is(err, errNoSession) || (errors.As(err, &ge) && ge.sessionInvalid()) {
		return fmt.Errorf("%v\nrun: fedgate login --gateway %s", err, gateway)
	}
	return err
}

// roleFlags are the flags of every command that needs credentials.
type roleFlags struct {
	gateway, pool, role *string
	duration            *int
	refreshBefore       *time.Duration
}

func (c *cli) newRoleFlags(name string) (*flag.FlagSet, roleFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	return fs, roleFlags{
		gateway:       fs.String("gateway", c.env.get("FEDGATE_GATEWAY"), "gateway URL (default $FEDGATE_GATEWAY)"),
		pool:          fs.String("pool", "", "pool id or name (default: the pool you signed in through)"),
		role:          fs.String("role", "", "role ARN (needed when the rules give you several)"),
		duration:      fs.Int("duration", 0, "credential lifetime in seconds, 900-43200 (default: the pool's)"),
		refreshBefore: fs.Duration("refresh-before", 5*time.Minute, "fetch new credentials when the cached ones expire within this"),
	}
}

// credentials returns valid credentials for a role: from the encrypted
// cache when they have more than refreshBefore left, else from the
// gateway, under the cache's lock so parallel callers vend once. It never
// starts a sign-in.
func (c *cli) credentials(ctx context.Context, f roleFlags) (string, *cachedCredentials, error) {
	gateway, err := normalizeGateway(*f.gateway)
	if err != nil {
		return "", nil, err
	}
	dirs, err := dirsFrom(c.env)
	if err != nil {
		return gateway, nil, err
	}
	sess, err := dirs.loadSession(gateway, c.now())
	if err != nil {
		return gateway, nil, err
	}
	cache, err := dirs.cacheFor(gateway, *f.pool, *f.role, *f.duration)
	if err != nil {
		return gateway, nil, err
	}
	unlock, err := cache.lock()
	if err != nil {
		return gateway, nil, err
	}
	defer unlock()
	cached, err := cache.read()
	if errors.Is(err, errCacheUnreadable) {
		fmt.Fprintf(c.stderr, "fedgate: the cached credentials in %s could not be decrypted (tampered with or damaged); discarding them and fetching new ones\n", cache.path)
		if err := cache.discard(); err != nil {
			return gateway, nil, err
		}
	} else if err != nil {
		return gateway, nil, err
	}
	if cached != nil && cached.Expiration.Sub(c.now()) > *f.refreshBefore {
		return gateway, cached, nil
	}
	var got gatewayCredentials
	req := map[string]any{"pool": *f.pool, "role_arn": *f.role}
	if *f.duration != 0 {
		req["duration_seconds"] = *f.duration
	}
	if err := newGatewayClient(gateway, sess.AccessToken).do(ctx, http.MethodPost, "/cli/credentials", req, &got); err != nil {
		return gateway, nil, err
	}
	exp, err := time.Parse(time.RFC3339, got.Expiration)
	if err != nil || got.AccessKeyID == "" || got.SecretAccessKey == "" {
		return gateway, nil, errors.New("the gateway answered credentials without a key or an expiration")
	}
	fresh := &cachedCredentials{AccessKeyID: got.AccessKeyID, SecretAccessKey: got.SecretAccessKey, SessionToken: got.SessionToken, Expiration: exp, RoleARN: got.RoleARN}
	if err := cache.write(fresh); err != nil {
		fmt.Fprintf(c.stderr, "fedgate: could not cache credentials: %v\n", err)
	}
	return gateway, fresh, nil
}

func (cc *cachedCredentials) exchange() *exchange.Credentials {
	return &exchange.Credentials{AccessKeyID: cc.AccessKeyID, SecretAccessKey: cc.SecretAccessKey, SessionToken: cc.SessionToken, Expiration: cc.Expiration, RoleARN: cc.RoleARN}
}

// cmdCredentialProcess prints the AWS CLI credential_process JSON.
func (c *cli) cmdCredentialProcess(ctx context.Context, args []string) int {
	fs, f := c.newRoleFlags("credential-process")
	if fs.Parse(args) != nil {
		return 2
	}
	gateway, creds, err := c.credentials(ctx, f)
	if err != nil {
		return c.fail("credential-process", loginHint(gateway, err))
	}
	out, err := exchange.ProcessJSON(creds.exchange())
	if err != nil {
		return c.fail("credential-process", err)
	}
	fmt.Fprintln(c.stdout, string(out))
	return 0
}

// cmdEnv prints export lines for tools that read the environment.
func (c *cli) cmdEnv(ctx context.Context, args []string) int {
	fs, f := c.newRoleFlags("env")
	if fs.Parse(args) != nil {
		return 2
	}
	gateway, creds, err := c.credentials(ctx, f)
	if err != nil {
		return c.fail("env", loginHint(gateway, err))
	}
	fmt.Fprint(c.stdout, exchange.ExportLines(creds.exchange()))
	return 0
}

// cmdExec runs a command with the credentials in its environment and
// exits with its exit code.
func (c *cli) cmdExec(ctx context.Context, args []string) int {
	fs, f := c.newRoleFlags("exec")
	if fs.Parse(args) != nil {
		return 2
	}
	argv := fs.Args()
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		fmt.Fprintln(c.stderr, "usage: fedgate exec --gateway URL [--pool ID] [--role ARN] -- COMMAND [ARGS...]")
		return 2
	}
	gateway, creds, err := c.credentials(ctx, f)
	if err != nil {
		return c.fail("exec", loginHint(gateway, err))
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.stdout, c.stderr
	cmd.Env = credentialEnv(os.Environ(), creds)
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return c.fail("exec", err)
	}
	return 0
}

// credentialEnv replaces any AWS credential or profile variables: with a
// profile set, the AWS SDKs would ignore the credentials.
func credentialEnv(base []string, creds *cachedCredentials) []string {
	drop := map[string]bool{"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
		"AWS_SECURITY_TOKEN": true, "AWS_CREDENTIAL_EXPIRATION": true, "AWS_PROFILE": true, "AWS_DEFAULT_PROFILE": true}
	out := make([]string, 0, len(base)+4)
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if !drop[name] {
			out = append(out, kv)
		}
	}
	return append(out,
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_SESSION_TOKEN="+creds.SessionToken,
		"AWS_CREDENTIAL_EXPIRATION="+creds.Expiration.UTC().Format(time.RFC3339))
}

// cmdConsole builds an AWS console sign-in URL with the role's credentials
// (the CLI calls the federation endpoint itself) and opens it.
func (c *cli) cmdConsole(ctx context.Context, args []string) int {
	fs, f := c.newRoleFlags("console")
	federation := fs.String("federation-url", "https://signin.aws.amazon.com/federation", "AWS federation endpoint")
	destination := fs.String("destination", "https://console.aws.amazon.com/", "console page to open")
	noBrowser := fs.Bool("no-browser", false, "print the URL instead of opening a browser")
	if fs.Parse(args) != nil {
		return 2
	}
	gateway, creds, err := c.credentials(ctx, f)
	if err != nil {
		return c.fail("console", loginHint(gateway, err))
	}
	signin := exchange.ConsoleSignIn{Endpoint: *federation, HTTP: &http.Client{Timeout: cliHTTPTimeout}}
	u, err := signin.LoginURL(ctx, exchange.ConsoleRequest{
		Credentials: creds.exchange(), Duration: creds.Expiration.Sub(c.now()), Issuer: gateway + "/", Destination: *destination,
	})
	if err != nil {
		return c.fail("console", err)
	}
	if *noBrowser || openBrowser(c.env, u) != nil {
		fmt.Fprintln(c.stderr, "Open this URL within 15 minutes to sign in to the AWS console (it is a secret):")
		fmt.Fprintln(c.stdout, u)
		return 0
	}
	fmt.Fprintln(c.stderr, "Opened the AWS console in your browser.")
	return 0
}

// dispatch runs one client subcommand.
func (c *cli) dispatch(ctx context.Context, name string, args []string) int {
	switch name {
	case "login":
		return c.cmdLogin(ctx, args)
	case "logout":
		return c.cmdLogout(ctx, args)
	case "sessions":
		return c.cmdSessions(ctx, args)
	case "credential-process":
		return c.cmdCredentialProcess(ctx, args)
	case "configure":
		return c.cmdConfigure(ctx, args)
	case "env":
		return c.cmdEnv(ctx, args)
	case "exec":
		return c.cmdExec(ctx, args)
	case "console":
		return c.cmdConsole(ctx, args)
	}
	fmt.Fprintf(c.stderr, "fedgate: unknown command %q\n", name)
	return 2
}
