package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"fedgate/cmd/fedgate/internal/client"
)

// clientCommands parse the flags of the client subcommands and run them
// with the laptop client.
type clientCommands struct {
	defaultGateway string // $FEDGATE_GATEWAY
	stderr         io.Writer
	client         *client.Client
}

// newClientCommands gives the client this process's clock, randomness,
// network and environment.
func newClientCommands(env environ, stdin io.Reader, stdout, stderr io.Writer) clientCommands {
	return clientCommands{defaultGateway: env.get("FEDGATE_GATEWAY"), stderr: stderr, client: client.New(client.Options{
		Stdin: stdin, Stdout: stdout, Stderr: stderr, Environ: os.Environ(),
		HTTP: &http.Client{Timeout: 30 * time.Second},
		Now:  time.Now, After: time.After, Rand: rand.Reader, Version: version,
	})}
}

// result reports a command's error on one line, as exit code 1.
func (cc clientCommands) result(cmd string, err error) int {
	if err != nil {
		fmt.Fprintf(cc.stderr, "fedgate %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// flags starts a subcommand's flags with --gateway, which every one has.
func (cc clientCommands) flags(name string, gateway *string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(cc.stderr)
	fs.StringVar(gateway, "gateway", cc.defaultGateway, "gateway URL (default $FEDGATE_GATEWAY)")
	return fs
}

func (cc clientCommands) login(ctx context.Context, args []string) int {
	var o client.LoginOptions
	fs := cc.flags("login", &o.Gateway)
	fs.StringVar(&o.Pool, "pool", "", "pool id or name (needed when the gateway has several)")
	fs.StringVar(&o.Provider, "provider", "", "identity provider (needed when the pool accepts several)")
	fs.BoolVar(&o.Device, "device", false, "sign in on another device with a code (RFC 8628)")
	fs.BoolVar(&o.NoBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "how long to wait for the sign-in")
	if fs.Parse(args) != nil {
		return 2
	}
	return cc.result("login", cc.client.Login(ctx, o))
}

func (cc clientCommands) logout(ctx context.Context, args []string) int {
	var gateway string
	if cc.flags("logout", &gateway).Parse(args) != nil {
		return 2
	}
	return cc.result("logout", cc.client.Logout(ctx, gateway))
}

// sessions lists the person's CLI sessions, or revokes one:
// fedgate sessions [revoke ID].
func (cc clientCommands) sessions(ctx context.Context, args []string) int {
	var gateway string
	fs := cc.flags("sessions", &gateway)
	if fs.Parse(args) != nil {
		return 2
	}
	switch rest := fs.Args(); {
	case len(rest) == 0:
		return cc.result("sessions", cc.client.ListSessions(ctx, gateway))
	case rest[0] == "revoke" && len(rest) == 2:
		return cc.result("sessions", cc.client.RevokeSession(ctx, gateway, rest[1]))
	default:
		fmt.Fprintln(cc.stderr, "usage: fedgate sessions --gateway URL [revoke ID]")
		return 2
	}
}

func (cc clientCommands) configure(ctx context.Context, args []string) int {
	var o client.ConfigureOptions
	fs := cc.flags("configure", &o.Gateway)
	fs.StringVar(&o.Pool, "pool", "", "only this pool's roles (default: every pool open to you)")
	fs.StringVar(&o.ProfilePrefix, "profile-prefix", "fedgate-", "prefix of the profile names")
	fs.StringVar(&o.ConfigFile, "config-file", "", "AWS config file (default $AWS_CONFIG_FILE or ~/.aws/config)")
	fs.IntVar(&o.Duration, "duration", 0, "credential lifetime in seconds for the profiles (default: the pool's)")
	fs.StringVar(&o.Command, "command", "", "the fedgate the profiles run (default: this one)")
	if fs.Parse(args) != nil {
		return 2
	}
	return cc.result("configure", cc.client.Configure(ctx, o))
}

// roleFlags are the flags of every command that needs credentials.
func (cc clientCommands) roleFlags(name string, o *client.RoleOptions) *flag.FlagSet {
	fs := cc.flags(name, &o.Gateway)
	fs.StringVar(&o.Pool, "pool", "", "pool id or name (default: the pool you signed in through)")
	fs.StringVar(&o.Role, "role", "", "role ARN (needed when the rules give you several)")
	fs.IntVar(&o.Duration, "duration", 0, "credential lifetime in seconds, 900-43200 (default: the pool's)")
	fs.DurationVar(&o.RefreshBefore, "refresh-before", 5*time.Minute, "fetch new credentials when the cached ones expire within this")
	return fs
}

func (cc clientCommands) credentialProcess(ctx context.Context, args []string) int {
	var o client.RoleOptions
	if cc.roleFlags("credential-process", &o).Parse(args) != nil {
		return 2
	}
	return cc.result("credential-process", cc.client.CredentialProcess(ctx, o))
}

func (cc clientCommands) env(ctx context.Context, args []string) int {
	var o client.RoleOptions
	if cc.roleFlags("env", &o).Parse(args) != nil {
		return 2
	}
	return cc.result("env", cc.client.Env(ctx, o))
}

// exec runs a command with the credentials and exits with its exit code.
func (cc clientCommands) exec(ctx context.Context, args []string) int {
	var o client.RoleOptions
	fs := cc.roleFlags("exec", &o)
	ecsServer := fs.Bool("ecs-server", false, "give COMMAND a loopback container credentials endpoint (refreshed) instead of static keys")
	if fs.Parse(args) != nil {
		return 2
	}
	argv := fs.Args()
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		fmt.Fprintln(cc.stderr, "usage: fedgate exec --gateway URL [--pool ID] [--role ARN] [--ecs-server] -- COMMAND [ARGS...]")
		return 2
	}
	run := cc.client.Exec
	if *ecsServer {
		run = cc.client.ExecWithServer
	}
	code, err := run(ctx, o, argv)
	if err != nil {
		return cc.result("exec", err)
	}
	return code
}

func (cc clientCommands) console(ctx context.Context, args []string) int {
	var o client.ConsoleOptions
	fs := cc.roleFlags("console", &o.RoleOptions)
	fs.StringVar(&o.FederationURL, "federation-url", "", "AWS federation endpoint (default: the gateway's console.federation_url)")
	fs.StringVar(&o.Destination, "destination", "", "console page to open (default: the gateway's console.destination)")
	fs.BoolVar(&o.NoBrowser, "no-browser", false, "print the URL instead of opening a browser")
	if fs.Parse(args) != nil {
		return 2
	}
	return cc.result("console", cc.client.Console(ctx, o))
}

// serveCredentials runs the container credentials endpoint until Ctrl-C.
func (cc clientCommands) serveCredentials(ctx context.Context, args []string) int {
	var o client.RoleOptions
	fs := cc.roleFlags("serve-credentials", &o)
	port := fs.Int("port", 0, "port on 127.0.0.1 (default: any free port)")
	if fs.Parse(args) != nil {
		return 2
	}
	return cc.result("serve-credentials", cc.client.ServeCredentials(ctx, o, *port))
}
