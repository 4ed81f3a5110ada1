package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"fedgate/gateway/wire"
)

// ConfigureOptions say which profiles `fedgate configure` writes, and where.
type ConfigureOptions struct {
	Gateway       string
	Pool          string // only this pool's roles; empty for every pool open to the person
	ProfilePrefix string
	ConfigFile    string // empty: $AWS_CONFIG_FILE or ~/.aws/config
	Duration      int    // credential lifetime in seconds written into the profiles; 0 for the pool's
	// Command is the fedgate the profiles run; empty for this one.
	Command string
}

// Configure writes an AWS config profile with a credential_process line
// for every role the person is entitled to, keeping every other section.
func (c *Client) Configure(ctx context.Context, o ConfigureOptions) error {
	g, err := c.signedIn(o.Gateway)
	if err != nil {
		return err
	}
	var out wire.CLIRoleList
	path := "/cli/roles"
	if o.Pool != "" {
		path += "?pool=" + url.QueryEscape(o.Pool)
	}
	if err := g.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return loginHint(g.base, err)
	}
	if len(out.Roles) == 0 {
		return errors.New("the rules give you no role on this gateway; ask an admin")
	}
	self, err := c.profileCommand(o.Command)
	if err != nil {
		return err
	}
	var sections []awsSection
	for _, r := range out.Roles {
		cmd := []string{self, "credential-process", "--gateway", g.base, "--pool", r.PoolID, "--role", r.RoleARN}
		if o.Duration != 0 {
			cmd = append(cmd, "--duration", fmt.Sprint(o.Duration))
		}
		sections = append(sections, awsSection{
			Name: "profile " + profileName(o.ProfilePrefix+r.PoolName+"-"+r.RoleName),
			Keys: [][2]string{{"credential_process", shellJoin(cmd)}, {"region", r.Region}},
		})
	}
	file := o.ConfigFile
	if file == "" {
		file = c.getenv("AWS_CONFIG_FILE")
	}
	if file == "" {
		home := c.getenv("HOME")
		if home == "" {
			if home, err = os.UserHomeDir(); err != nil {
				return err
			}
		}
		file = filepath.Join(home, ".aws", "config")
	}
	old, mode := "", fs.FileMode(0o600)
	if st, err := os.Stat(file); err == nil {
		mode = st.Mode().Perm()
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		old = string(b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := writeFileAtomic(file, []byte(mergeAWSConfig(old, sections)), mode); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "Wrote %d profile(s) to %s:\n", len(sections), file)
	for _, s := range sections {
		fmt.Fprintf(c.stdout, "%s\n", strings.TrimPrefix(s.Name, "profile "))
	}
	return nil
}

// profileCommand is the absolute path of the fedgate the profiles run: the
// one named with --command, or this one, unless this one is a temporary
// build that will be gone when the AWS CLI calls it.
func (c *Client) profileCommand(command string) (string, error) {
	if command != "" {
		path := command
		if !strings.ContainsRune(path, filepath.Separator) {
			found, err := exec.LookPath(path)
			if err != nil {
				return "", fmt.Errorf("--command %s: not found on PATH", command)
			}
			path = found
		}
		path, err := filepath.Abs(path)
		if err != nil {
			return "", err
		}
		st, err := os.Stat(path)
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("--command %s: not an executable file", command)
		}
		return path, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	if temporaryGoBuild(self, c.getenv("GOCACHE")) {
		return "", fmt.Errorf("this fedgate is a temporary build (%s) that `go run` deletes when it exits, so the AWS profiles could not run it.\n"+
			"Install fedgate (go install ./cmd/fedgate puts it in $(go env GOPATH)/bin) and run fedgate configure again,\n"+
			"or name the fedgate the profiles should run: fedgate configure --command PATH", self)
	}
	return self, nil
}

// temporaryGoBuild tells whether path is inside a directory the go command
// builds in and removes: go run's and go test's work directory
// ($TMPDIR/go-build…) or the build cache (GOCACHE, …/go-build).
func temporaryGoBuild(path, gocache string) bool {
	if gocache != "" {
		if rel, err := filepath.Rel(gocache, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	for _, dir := range strings.Split(filepath.Dir(path), string(filepath.Separator)) {
		if strings.HasPrefix(dir, "go-build") {
			return true
		}
	}
	return false
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
