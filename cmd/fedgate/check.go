package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

// serveEnvironment is every environment variable `fedgate serve` reads.
const serveEnvironment = `Environment:
  FEDGATE_MASTER_KEY     base64 of 32 bytes, used when keys.master_key and master_key_file are unset
                         (make one with: fedgate keys new-master-key)
  FEDGATE_STORE_DSN      the PostgreSQL connection string; overrides store.dsn and selects postgres
  FEDGATE_STS_ENDPOINT   overrides sts.endpoint (a VPC endpoint, a test STS)
  FEDGATE_STS_REGION     overrides sts.region
  FEDGATE_LOG_LEVEL      debug | info (default) | warn | error
  the variable named by admin.api_token_env (e.g. FEDGATE_ADMIN_TOKEN): the admin API token
  ${NAME} and ${NAME:-default} anywhere in the file: expanded from the environment
  AWS_* (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_CA_BUNDLE, ...): the standard AWS
                         credential chain, used only by keys.publish to write to S3
  SSL_CERT_FILE, SSL_CERT_DIR: trusted roots for https to IdPs, STS and S3
`

// usageWithEnvironment makes --help of a server command list its flags and
// the environment.
func usageWithEnvironment(fs *flag.FlagSet, synopsis string, stderr io.Writer) {
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\n"+serveEnvironment)
	}
}

func cmdCheck(ctx context.Context, args []string, env environ, stdout, stderr io.Writer) int {
	fs, cfgPath := newFlags("check", stderr)
	offline := fs.Bool("offline", false, "skip reaching the store (check the file alone, e.g. in CI without the database)")
	usageWithEnvironment(fs, "fedgate check --config FILE [--offline]", stderr)
	if fs.Parse(args) != nil {
		return 2
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "fedgate check: --config is required")
		return 2
	}
	f, err := loadConfig(*cfgPath, env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", *cfgPath, err)
		return 1
	}
	var problems []string
	if err := checkMasterKey(f); err != nil {
		problems = append(problems, err.Error())
	}
	if !*offline {
		if err := checkStore(ctx, f.Store); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "%s: %d problem(s):\n  - %s\n", *cfgPath, len(problems), strings.Join(problems, "\n  - "))
		return 1
	}
	if !*offline {
		if err := reportMappingsSource(ctx, f, *cfgPath, stdout); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", *cfgPath, err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "%s: OK — %d provider(s), %d pool(s), public URL %s, TLS %s, store %s\n",
		*cfgPath, len(f.Providers), len(f.Pools), f.Server.PublicURL, f.Server.TLS.Mode(), storeState(f.Store, *offline))
	if p := f.Keys.Publish; p != nil {
		fmt.Fprintf(stdout, "%s: keys.publish writes the issuer documents to s3://%s/%s, read by IAM at issuer %s; the bucket is not contacted here (fedgate keys publish writes them once and shows whether the host's AWS credentials may)\n",
			*cfgPath, p.Bucket, p.Prefix, f.IssuerBase())
	}
	return 0
}

func storeState(c config.Store, offline bool) string {
	if offline {
		return c.Driver + " (not reached: --offline)"
	}
	return c.Driver + " reached"
}

// checkMasterKey is what serve would die on: a key that is not base64 of
// 32 bytes, or a key file that cannot be read. The message never repeats
// the key.
func checkMasterKey(f *config.File) error {
	const how = "make one with: fedgate keys new-master-key"
	if f.Keys.MasterKey != "" {
		if _, err := secret.ParseKey(f.Keys.MasterKey); err != nil {
			return fmt.Errorf("keys.master_key: %s; %s", keyProblem(err), how)
		}
		return nil
	}
	b, err := os.ReadFile(f.Keys.MasterKeyFile)
	if errors.Is(err, fs.ErrNotExist) && f.Keys.GenerateMasterKey {
		return nil // created on first start
	}
	if err != nil {
		return fmt.Errorf("keys.master_key_file: %v; %s", err, how)
	}
	if _, err := secret.ParseKey(string(b)); err != nil {
		return fmt.Errorf("keys.master_key_file: %s: %s; %s", f.Keys.MasterKeyFile, keyProblem(err), how)
	}
	return nil
}

// reportMappingsSource says, when the store already holds mappings,
// whether serve applies the file's, and which version is live.
func reportMappingsSource(ctx context.Context, f *config.File, cfgPath string, stdout io.Writer) error {
	if f.Store.Driver == config.StoreDriverSQLite {
		if _, err := os.Stat(f.Store.Path); err != nil {
			fmt.Fprintf(stdout, "%s: mappings: the store is empty; fedgate serve seeds it from this file\n", cfgPath)
			return nil
		}
	}
	if f.Keys.MasterKey == "" {
		if _, err := os.Stat(f.Keys.MasterKeyFile); err != nil {
			return nil // a demo key made at first start; checked above
		}
	}
	key, err := masterKey(f, nil)
	if err != nil {
		return err
	}
	box, err := secret.NewBox(key, rand.Reader)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, f.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	same, live, err := core.FileMappingsState(ctx, st, box, f)
	switch {
	case err != nil:
		return err
	case live == nil:
		fmt.Fprintf(stdout, "%s: mappings: the store is empty; fedgate serve seeds it from this file\n", cfgPath)
	case same:
		fmt.Fprintf(stdout, "%s: mappings: this file holds the live version %d (mappings.source: %s)\n", cfgPath, live.Version, f.MappingsSource.Source)
	case f.MappingsSource.Source == config.MappingsFromFile:
		fmt.Fprintf(stdout, "%s: mappings: fedgate serve makes this file's mappings live, replacing version %d (%s by %s); fedgate mappings diff shows the change\n",
			cfgPath, live.Version, live.Source, live.Author)
	default:
		fmt.Fprintf(stdout, "%s: WARNING: mappings.source is store: this file's providers, pools and rules are NOT applied. "+
			"The live version is %d (%s by %s, %s); fedgate mappings diff --config %s shows the difference\n",
			cfgPath, live.Version, live.Source, live.Author, live.CreatedAt.UTC().Format(time.RFC3339), cfgPath)
	}
	return nil
}

// keyProblem is what is wrong with a key ("decodes to 5 bytes, want 32").
func keyProblem(err error) string {
	msg := strings.TrimPrefix(err.Error(), secret.ErrBadKey.Error()+": ")
	if i := strings.Index(msg, "; make one"); i >= 0 {
		msg = msg[:i]
	}
	return "not base64 of 32 bytes: " + msg
}

// checkStore reaches the store without changing it: no file is created
// and no migration runs, so a check against production is safe.
func checkStore(ctx context.Context, c config.Store) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if c.Driver == config.StoreDriverPostgres {
		conn, err := pgx.Connect(ctx, c.DSN)
		if err == nil {
			err = conn.Ping(ctx)
			_ = conn.Close(ctx)
		}
		if err != nil {
			msg := strings.ReplaceAll(err.Error(), c.DSN, "(the DSN)")
			return fmt.Errorf("store.dsn: cannot reach the postgres store: %s", msg)
		}
		return nil
	}
	if _, err := os.Stat(c.Path); errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(c.Path)
		probe, err := os.CreateTemp(dir, ".fedgate-check-*")
		if err != nil {
			return fmt.Errorf("store.path: %s does not exist and cannot be created: %v", c.Path, err)
		}
		probe.Close()
		_ = os.Remove(probe.Name())
		return nil
	}
	file, err := os.OpenFile(c.Path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("store.path: %v", err)
	}
	file.Close()
	db, err := sql.Open("sqlite", "file:"+c.Path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err == nil {
		var n int
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n)
		db.Close()
	}
	if err != nil {
		return fmt.Errorf("store.path: %s is not a readable SQLite database: %v", c.Path, err)
	}
	return nil
}
