// Command fedgate is the federation gateway: `fedgate serve` runs it, the
// other subcommands check its configuration and help register it with IAM.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"
)

// version, when set at build time with -ldflags "-X main.version=v1.2.3",
// replaces the module version the Go toolchain stamped into the binary.
var version string

const usage = `fedgate — AWS credentials from your organisation's sign-in

Usage:
  fedgate serve        --config FILE            run the gateway
  fedgate check        --config FILE [--offline]
                                                validate a configuration, listing every problem: the file,
                                                the master key, and (unless --offline) that the store answers
  fedgate trust-policy --config FILE --pool ID  print the IAM trust policies and the OIDC provider command
  fedgate keys rotate  --config FILE            start signing with a new key (the old one stays published)
  fedgate keys list    --config FILE            show signing keys (the issuer's and the SAML broker's)
  fedgate keys publish --config FILE            write the discovery documents and key set to keys.publish's bucket
  fedgate keys new-master-key                   print a new master key (base64 of 32 random bytes)
  fedgate saml-metadata --config FILE [--rotate --overlap 24h]
                                                print the SAML broker's IdP metadata for IAM; --rotate
                                                announces a new signing key that starts after the overlap
  fedgate mappings export --config FILE [--out F]
                                                write the live providers, pools and rules as YAML
  fedgate mappings apply --config FILE [--dry-run] [--comment TEXT] FILE.yaml
                                                show the changes and apply them as one version
  fedgate access-keys create --config FILE --name N --role owner|editor|viewer [--pool ID]
                                                an access key for signed Cognito API calls (secret shown once);
                                                also list, disable, enable, rotate, delete --id ID
  fedgate import-cognito --pool DESCRIBE.json [--roles ROLES.json] [--out F]
                                                a configuration from an Amazon Cognito identity pool
  fedgate hash-password                         read a password on stdin, print its bcrypt hash

Client (on a laptop; --gateway defaults to $FEDGATE_GATEWAY):
  fedgate login --gateway URL [--pool ID] [--provider P] [--device] [--no-browser]
                                                sign in once; the session lasts cli.session_ttl
  fedgate credential-process --gateway URL [--pool ID] [--role ARN] [--duration S]
                                                credentials for the AWS CLI's credential_process (cached)
  fedgate configure --gateway URL [--pool ID]   write ~/.aws/config profiles for your roles
  fedgate env --gateway URL [--role ARN]        print export lines
  fedgate exec --gateway URL [--role ARN] [--ecs-server] -- CMD ARGS...
                                                run CMD with the credentials in its environment
                                                (--ecs-server: a refreshed loopback credentials endpoint)
  fedgate serve-credentials --gateway URL [--role ARN] [--port N]
                                                serve the container credentials endpoint until Ctrl-C
  fedgate console --gateway URL [--role ARN]    open the AWS console as the role
  fedgate sessions --gateway URL [revoke ID]    list or revoke your CLI sessions
  fedgate logout --gateway URL                  revoke this session and delete cached credentials
  fedgate version [--json]                      the module version, VCS revision and time, and Go version

` + serveEnvironment

func main() {
	gin.SetMode(gin.ReleaseMode)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// clientSubcommands run on a laptop, with the client.
var clientSubcommands = map[string]func(clientCommands, context.Context, []string) int{
	"login":              clientCommands.login,
	"logout":             clientCommands.logout,
	"sessions":           clientCommands.sessions,
	"credential-process": clientCommands.credentialProcess,
	"configure":          clientCommands.configure,
	"env":                clientCommands.env,
	"exec":               clientCommands.exec,
	"console":            clientCommands.console,
	"serve-credentials":  clientCommands.serveCredentials,
}

// run dispatches a subcommand; exit code 2 is a usage error, 1 a failure.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	env := environ{lookup: os.LookupEnv}
	if sub, ok := clientSubcommands[args[0]]; ok {
		return sub(newClientCommands(env, stdin, stdout, stderr), ctx, args[1:])
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], env, stdout, stderr)
	case "check":
		return cmdCheck(ctx, args[1:], env, stdout, stderr)
	case "trust-policy":
		return cmdTrustPolicy(args[1:], env, stdout, stderr)
	case "keys":
		return cmdKeys(ctx, args[1:], env, stdout, stderr)
	case "mappings":
		return cmdMappings(ctx, args[1:], env, stdout, stderr)
	case "access-keys":
		return cmdAccessKeys(ctx, args[1:], env, stdout, stderr)
	case "import-cognito":
		return cmdImportCognito(args[1:], stdout, stderr)
	case "saml-metadata":
		return cmdSAMLMetadata(ctx, args[1:], env, stdout, stderr)
	case "hash-password":
		return cmdHashPassword(stdin, stdout, stderr)
	case "version", "--version":
		return cmdVersion(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "fedgate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
