package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"fedgate/exchange/awssts"
	"fedgate/exchange/secret"
	"fedgate/gateway"
	"fedgate/gateway/buildinfo"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
	"fedgate/gateway/tlscert"
	staticidp "fedgate/idp/static"
)

func cmdServe(ctx context.Context, args []string, env environ, stdout, stderr io.Writer) int {
	fs, cfgPath := newFlags("serve", stderr)
	usageWithEnvironment(fs, "fedgate serve --config FILE", stderr)
	if fs.Parse(args) != nil {
		return 2
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "fedgate serve: --config is required")
		return 2
	}
	log := newLogger(stderr, env)
	f, err := loadConfig(*cfgPath, env)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate: refusing to start: %s: %v\n", *cfgPath, err)
		return 1
	}
	if err := checkMasterKey(f); err != nil {
		fmt.Fprintf(stderr, "fedgate: refusing to start: %s: %v\n", *cfgPath, err)
		return 1
	}
	file := core.ConfigFile{Path: *cfgPath, Load: func() (*config.File, error) { return loadConfig(*cfgPath, env) }, ReloadNow: reloadOnHangUp(ctx)}
	if err := serve(ctx, f, file, log); err != nil {
		log.Error("fedgate stopped", "error", err.Error())
		return 1
	}
	return 0
}

// reloadOnHangUp delivers on SIGHUP (which would otherwise end the
// process) until ctx ends: the operator's "re-read the file now".
func reloadOnHangUp(ctx context.Context) <-chan struct{} {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	now := make(chan struct{}, 1)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case now <- struct{}{}:
				default: // one pending reload covers them all
				}
			}
		}
	}()
	return now
}

func serve(ctx context.Context, f *config.File, file core.ConfigFile, log *slog.Logger) error {
	st, box, err := openCore(ctx, f, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := core.Seed(ctx, st, box, f, log); err != nil {
		return err
	}
	pub, err := newPublisher(ctx, f)
	if err != nil {
		return err
	}
	iss, err := newIssuer(ctx, f, st, box, pub)
	if err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	sts, err := awssts.New(awssts.Options{
		Region: f.STS.Region, Endpoint: f.STS.Endpoint, Timeout: f.STS.Timeout.D(), Logger: log,
	})
	if err != nil {
		return fmt.Errorf("sts: %w", err)
	}
	upstreamHTTP, err := upstreamClient(f)
	if err != nil {
		return fmt.Errorf("server.allow_upstream_cidrs: %w", err)
	}
	build := buildinfo.Read(version)
	deps := gateway.Deps{
		Config: f, Store: st, Issuer: iss, Box: box, STS: sts,
		Upstream: upstreamHTTP,
		Logger:   log, Now: time.Now, Rand: rand.Reader, File: file,
	}
	if pub != nil {
		deps.Publisher = pub
	}
	srv, err := gateway.New(ctx, deps, gateway.WithBuild(build))
	if err != nil {
		return err
	}
	tc, err := tlscert.ServerConfig(ctx, f.Server.TLS, tlscert.Deps{Store: st, Box: box, Log: log, Now: time.Now})
	if err != nil {
		return err
	}
	ls, err := listen(f)
	if err != nil {
		return err
	}
	ls.TLS = tc
	log.Info("fedgate listening", startupAttrs(f, ls, build)...)
	return srv.ServeListeners(ctx, ls)
}

// listen opens the public listener and, when configured, the ops one.
func listen(f *config.File) (gateway.Listeners, error) {
	var ls gateway.Listeners
	ln, err := net.Listen("tcp", f.Server.Listen)
	if err != nil {
		return ls, fmt.Errorf("server.listen: %w", err)
	}
	ls.Public = ln
	if f.Server.OpsListen != "" {
		if ls.Ops, err = net.Listen("tcp", f.Server.OpsListen); err != nil {
			ln.Close()
			return ls, fmt.Errorf("server.ops_listen: %w", err)
		}
	}
	return ls, nil
}

// startupAttrs is what the start-up line says: where fedgate listens and
// is reached, what it talks to, and which build it is; never a secret.
func startupAttrs(f *config.File, ls gateway.Listeners, build buildinfo.Info) []any {
	attrs := []any{"address", ls.Public.Addr().String(), "tls", f.Server.TLS.Mode(), "public_url", f.Server.PublicURL}
	if ls.Ops != nil {
		attrs = append(attrs, "ops_address", ls.Ops.Addr().String())
	}
	attrs = append(attrs, "store_driver", f.Store.Driver, "store", storeLabel(f.Store), "sts_endpoint", stsEndpointLabel(f.STS))
	return append(attrs, build.Attrs()...)
}

// stsEndpointLabel is where STS calls go, without any user info a URL
// could carry.
func stsEndpointLabel(c config.STS) string {
	if c.Endpoint == "" {
		return "https://sts." + c.Region + ".amazonaws.com"
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return "(unparsable)"
	}
	u.User = nil
	return u.String()
}

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if fs.Parse(args) != nil {
		return 2
	}
	build := buildinfo.Read(version)
	if *asJSON {
		b, _ := json.MarshalIndent(build, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	fmt.Fprint(stdout, build.Lines())
	return 0
}

func cmdTrustPolicy(args []string, env environ, stdout, stderr io.Writer) int {
	fs, cfgPath := newFlags("trust-policy", stderr)
	pool := fs.String("pool", "", "pool id or name")
	if fs.Parse(args) != nil {
		return 2
	}
	if *pool == "" || *cfgPath == "" {
		fmt.Fprintln(stderr, "fedgate trust-policy: --config and --pool are required")
		return 2
	}
	f, err := loadConfig(*cfgPath, env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", *cfgPath, err)
		return 1
	}
	rep, err := core.TrustPolicies(f, *pool)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate trust-policy: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "# Pool %s (%s), exchange mode %s, issuer %s\n", rep.Pool.Name, rep.Pool.ID, rep.Pool.Mode, rep.IssuerURL)
	for _, w := range rep.Warnings {
		fmt.Fprintln(stdout, "# Warning: "+w)
	}
	if strings.HasPrefix(rep.IssuerURL, "http://") {
		fmt.Fprintln(stdout, "# Note: IAM only trusts https issuers it can reach; this http public_url is for local use and tests.")
	}
	if rep.RegisterIn != "" {
		what := rep.RegisterWhat
		if what == "" {
			what = "fedgate as an IAM OIDC identity provider"
		}
		fmt.Fprintf(stdout, "\n# 1. Register %s (once per AWS account):\n%s\n", what, rep.RegisterIn)
	}
	fmt.Fprintln(stdout, "\n# 2. Give each role this trust policy:")
	for _, r := range rep.Roles {
		fmt.Fprintf(stdout, "\n## %s — %s\n%s\n", r.RoleARN, r.Why, r.Policy)
	}
	return 0
}

func cmdKeys(ctx context.Context, args []string, env environ, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "new-master-key" {
		k, err := secret.GenerateKey(rand.Reader)
		if err != nil {
			fmt.Fprintf(stderr, "fedgate keys new-master-key: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, k)
		return 0
	}
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "list" && args[0] != "publish") {
		fmt.Fprintln(stderr, "usage: fedgate keys rotate|list|publish --config FILE\n       fedgate keys new-master-key")
		return 2
	}
	fs, cfgPath := newFlags("keys "+args[0], stderr)
	if fs.Parse(args[1:]) != nil {
		return 2
	}
	f, st, box, ok := openConfigured(ctx, "keys", *cfgPath, env, stderr)
	if !ok {
		return 1
	}
	defer st.Close()
	if args[0] == "list" {
		return keysList(ctx, st, stdout, stderr)
	}
	pub, err := newPublisher(ctx, f)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate keys: %s: %v\n", *cfgPath, err)
		return 1
	}
	if args[0] == "publish" && pub == nil {
		fmt.Fprintf(stderr, "fedgate keys publish: %s has no keys.publish section: there is nowhere to publish to\n", *cfgPath)
		return 1
	}
	iss, err := newIssuer(ctx, f, st, box, pub)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate keys: %v\n", err)
		return 1
	}
	switch args[0] {
	case "publish":
		return keysPublish(ctx, f, st, box, pub, iss, stdout, stderr)
	default: // rotate
		kid, err := iss.Rotate(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "fedgate keys rotate: %v\n", err)
			return 1
		}
		where := "published now"
		if pub != nil {
			where = "published now (served by fedgate, and written to " + pub.Location() + ")"
		}
		fmt.Fprintf(stdout, "new signing key %s is %s and signs from %s (after every replica has reloaded); previous keys stay published until the tokens they signed expire\n",
			kid, where, time.Now().Add(keyPublishDelay(f)).UTC().Format(time.RFC3339))
		return 0
	}
}

// keysList prints the stored keys. It only reads: building an issuer here
// would make a first key (or one of a newly configured algorithm) that
// signs at once, before any bucket or replica has it.
func keysList(ctx context.Context, st store.Store, stdout, stderr io.Writer) int {
	keys, err := st.ListSigningKeys(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate keys list: %v\n", err)
		return 1
	}
	for _, k := range keys {
		state := "active"
		if !k.RetiredAt.IsZero() {
			state = "retired " + k.RetiredAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "%s\t%s\tcreated %s\t%s\n", k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339), state)
	}
	return listSAMLKeys(ctx, st, time.Now(), stdout, stderr) // keys_saml.go
}

func cmdHashPassword(stdin io.Reader, stdout, stderr io.Writer) int {
	line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(stderr, "fedgate hash-password: %v\n", err)
		return 1
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		fmt.Fprintln(stderr, "fedgate hash-password: give the password on stdin, e.g. echo 'secret' | fedgate hash-password")
		return 2
	}
	h, err := staticidp.HashPassword(pw)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate hash-password: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, h)
	return 0
}
