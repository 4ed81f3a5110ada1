package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"fedgate/exchange/awssts"
	"fedgate/gateway"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	staticidp "fedgate/idp/static"
)

func cmdServe(ctx context.Context, args []string, env environ, stdout, stderr io.Writer) int {
	fs, cfgPath := newFlags("serve", stderr)
	if fs.Parse(args) != nil {
		return 2
	}
	log := newLogger(stderr, env)
	f, err := loadConfig(*cfgPath, env)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate: refusing to start: %v\n", err)
		return 1
	}
	if err := serve(ctx, f, log); err != nil {
		log.Error("fedgate stopped", "error", err.Error())
		return 1
	}
	return 0
}

func serve(ctx context.Context, f *config.File, log *slog.Logger) error {
	st, box, err := openCore(ctx, f, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := core.Seed(ctx, st, box, f, log); err != nil {
		return err
	}
	iss, err := newIssuer(ctx, f, st, box)
	if err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	sts, err := awssts.New(awssts.Options{
		Region: f.STS.Region, Endpoint: f.STS.Endpoint,
		HTTPClient: &http.Client{Timeout: f.STS.Timeout.D()},
	})
	if err != nil {
		return fmt.Errorf("sts: %w", err)
	}
	upstreamHTTP, err := upstreamClient(f)
	if err != nil {
		return fmt.Errorf("server.allow_upstream_cidrs: %w", err)
	}
	srv, err := gateway.New(ctx, gateway.Deps{
		Config: f, Store: st, Issuer: iss, Box: box, STS: sts,
		Upstream: upstreamHTTP,
		Logger:   log, Now: time.Now, Rand: rand.Reader,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.Server.Listen)
	if err != nil {
		return err
	}
	log.Info("fedgate listening", "address", ln.Addr().String(), "public_url", f.Server.PublicURL, "store", storeLabel(f.Store), "version", version)
	return srv.Serve(ctx, ln)
}

func cmdCheck(args []string, env environ, stdout, stderr io.Writer) int {
	fs, cfgPath := newFlags("check", stderr)
	if fs.Parse(args) != nil {
		return 2
	}
	f, err := loadConfig(*cfgPath, env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", *cfgPath, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK — %d provider(s), %d pool(s), public URL %s\n", *cfgPath, len(f.Providers), len(f.Pools), f.Server.PublicURL)
	return 0
}

func cmdTrustPolicy(args []string, env environ, stdout, stderr io.Writer) int {
	fs, cfgPath := newFlags("trust-policy", stderr)
	pool := fs.String("pool", "", "pool id or name")
	if fs.Parse(args) != nil {
		return 2
	}
	if *pool == "" {
		fmt.Fprintln(stderr, "fedgate trust-policy: --pool is required")
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
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "list") {
		fmt.Fprintln(stderr, "usage: fedgate keys rotate|list --config FILE")
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
	iss, err := newIssuer(ctx, f, st, box)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate keys: %v\n", err)
		return 1
	}
	if args[0] == "rotate" {
		kid, err := iss.Rotate(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "fedgate keys rotate: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "new signing key %s is published now and signs from %s (after every replica has reloaded); previous keys stay published until the tokens they signed expire\n",
			kid, time.Now().Add(keyPublishDelay(f)).UTC().Format(time.RFC3339))
		return 0
	}
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
