package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// cmdConfigure writes an AWS config profile with a credential_process line
// for every role the person is entitled to, keeping every other section.
func (c *cli) cmdConfigure(ctx context.Context, args []string) int {
	flags := flag.NewFlagSet("configure", flag.ContinueOnError)
	flags.SetOutput(c.stderr)
	gatewayFlag := flags.String("gateway", c.env.get("FEDGATE_GATEWAY"), "gateway URL (default $FEDGATE_GATEWAY)")
	pool := flags.String("pool", "", "only this pool's roles (default: every pool open to you)")
	prefix := flags.String("profile-prefix", "fedgate-", "prefix of the profile names")
	configFile := flags.String("config-file", "", "AWS config file (default $AWS_CONFIG_FILE or ~/.aws/config)")
	duration := flags.Int("duration", 0, "credential lifetime in seconds for the profiles (default: the pool's)")
	if flags.Parse(args) != nil {
		return 2
	}
	gateway, err := normalizeGateway(*gatewayFlag)
	if err != nil {
		return c.fail("configure", err)
	}
	dirs, err := dirsFrom(c.env)
	if err != nil {
		return c.fail("configure", err)
	}
	sess, err := dirs.loadSession(gateway, c.now())
	if err != nil {
		return c.fail("configure", loginHint(gateway, err))
	}
	var out struct {
		Roles []struct {
			PoolID   string `json:"pool_id"`
			PoolName string `json:"pool_name"`
			Region   string `json:"region"`
			RoleARN  string `json:"role_arn"`
			RoleName string `json:"role_name"`
		} `json:"roles"`
	}
	path := "/cli/roles"
	if *pool != "" {
		path += "?pool=" + url.QueryEscape(*pool)
	}
	if err := newGatewayClient(gateway, sess.AccessToken).do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return c.fail("configure", loginHint(gateway, err))
	}
	if len(out.Roles) == 0 {
		return c.fail("configure", errors.New("the rules give you no role on this gateway; ask an admin"))
	}
	self, err := os.Executable()
	if err != nil {
		return c.fail("configure", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	var sections []awsSection
	for _, r := range out.Roles {
		cmd := []string{self, "credential-process", "--gateway", gateway, "--pool", r.PoolID, "--role", r.RoleARN}
		if *duration != 0 {
			cmd = append(cmd, "--duration", fmt.Sprint(*duration))
		}
		sections = append(sections, awsSection{
			Name: "profile " + profileName(*prefix+r.PoolName+"-"+r.RoleName),
			Keys: [][2]string{{"credential_process", shellJoin(cmd)}, {"region", r.Region}},
		})
	}
	file := *configFile
	if file == "" {
		file = c.env.get("AWS_CONFIG_FILE")
	}
	if file == "" {
		home := c.env.get("HOME")
		if home == "" {
			if home, err = os.UserHomeDir(); err != nil {
				return c.fail("configure", err)
			}
		}
		file = filepath.Join(home, ".aws", "config")
	}
	old, mode := "", fs.FileMode(0o600)
	if st, err := os.Stat(file); err == nil {
		mode = st.Mode().Perm()
		b, err := os.ReadFile(file)
		if err != nil {
			return c.fail("configure", err)
		}
		old = string(b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return c.fail("configure", err)
	}
	if err := writeFileAtomic(file, []byte(mergeAWSConfig(old, sections)), mode); err != nil {
		return c.fail("configure", err)
	}
	fmt.Fprintf(c.stderr, "Wrote %d profile(s) to %s:\n", len(sections), file)
	for _, s := range sections {
		fmt.Fprintf(c.stdout, "%s\n", strings.TrimPrefix(s.Name, "profile "))
	}
	return 0
}

// awsSection is one [section] of an AWS config file.
type awsSection struct {
	Name string      // "profile NAME" or "default"
	Keys [][2]string // key = value lines, in order
}

var (
	sectionHeader  = regexp.MustCompile(`^\s*\[\s*([^\]]*?)\s*\]\s*([#;].*)?$`)
	profileUnsafe  = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	shellUnquoted  = regexp.MustCompile(`^[A-Za-z0-9@%_+=:,./-]+$`)
	collapseDashes = regexp.MustCompile(`-{2,}`)
)

// profileName keeps a profile name to characters every AWS tool accepts.
func profileName(s string) string {
	s = collapseDashes.ReplaceAllString(profileUnsafe.ReplaceAllString(s, "-"), "-")
	return strings.Trim(s, "-.")
}

// shellJoin quotes argv the way the AWS CLI splits credential_process
// (POSIX shell words).
func shellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if shellUnquoted.MatchString(a) {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'"'"'`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// mergeAWSConfig replaces the sections named in updates (or appends them)
// and keeps every other line of old byte for byte, comments included.
func mergeAWSConfig(old string, updates []awsSection) string {
	want := map[string]int{}
	for i, s := range updates {
		want[normalizeSection(s.Name)] = i
	}
	written := map[int]bool{}
	var b strings.Builder
	skipping := false
	sc := bufio.NewScanner(strings.NewReader(old))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := sectionHeader.FindStringSubmatch(line); m != nil {
			i, ok := want[normalizeSection(m[1])]
			skipping = ok
			if ok && !written[i] {
				writeSection(&b, updates[i])
				written[i] = true
			}
			if ok {
				continue
			}
		}
		// Inside a replaced section only its settings go: comments and blank
		// lines stay, since they usually introduce what follows.
		if !skipping || isBlankOrComment(line) {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	for i, s := range updates {
		if !written[i] {
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n\n") {
				b.WriteByte('\n')
			}
			writeSection(&b, s)
		}
	}
	return b.String()
}

func normalizeSection(name string) string { return strings.Join(strings.Fields(name), " ") }

func isBlankOrComment(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";")
}

func writeSection(b *strings.Builder, s awsSection) {
	b.WriteString("[" + s.Name + "]\n")
	for _, kv := range s.Keys {
		b.WriteString(kv[0] + " = " + kv[1] + "\n")
	}
}
