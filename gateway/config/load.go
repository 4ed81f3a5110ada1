package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileBytes caps the configuration file; a larger one is a mistake.
const MaxFileBytes = 8 << 20

// Problem is one thing wrong with a configuration, at a path such as
// pools[0].rules[2].role.
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Problems is every problem found in a configuration.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "  - " + p.String()
	}
	return fmt.Sprintf("configuration has %d problem(s):\n%s", len(ps), strings.Join(lines, "\n"))
}

// LookupEnv reads one environment variable; os.LookupEnv in production.
type LookupEnv func(name string) (string, bool)

// LoadFile reads, expands, decodes, defaults and validates a file.
func LoadFile(path string, env LookupEnv) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileBytes+1)); err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	if buf.Len() > MaxFileBytes {
		return nil, fmt.Errorf("configuration file is larger than %d bytes", MaxFileBytes)
	}
	return Parse(buf.Bytes(), env)
}

// Parse decodes a configuration, reporting unknown keys, unset
// environment variables and every validation problem together as Problems.
func Parse(data []byte, env LookupEnv) (*File, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{{Message: "not valid YAML: " + err.Error()}}
	}
	var problems Problems
	expandNode(&root, env, "", &problems)
	expanded, err := yaml.Marshal(&root)
	if err != nil {
		return nil, Problems{{Message: "not valid YAML: " + err.Error()}}
	}
	f := &File{}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, Problems{{Message: "not valid YAML: " + err.Error()}}
		}
		for _, msg := range te.Errors {
			problems = append(problems, Problem{Message: msg})
		}
	}
	applyEnvOverrides(f, env)
	problems = append(problems, f.Admin.resolveAdminToken(env)...)
	f.ApplyDefaults()
	problems = append(problems, f.Validate()...)
	if len(problems) > 0 {
		sortProblems(problems)
		return nil, problems
	}
	return f, nil
}

func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Path < ps[j].Path })
}

// envRef matches ${NAME} and ${NAME:-default}.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandNode replaces environment references in scalar values only, so a
// secret containing YAML syntax cannot change the document's structure.
func expandNode(n *yaml.Node, env LookupEnv, path string, problems *Problems) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			expandNode(c, env, p, problems)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			p := key
			if path != "" {
				p = path + "." + key
			}
			expandNode(n.Content[i+1], env, p, problems)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			m := envRef.FindStringSubmatch(ref)
			if v, ok := env(m[1]); ok && v != "" {
				return v
			}
			if m[2] != "" {
				return m[3]
			}
			*problems = append(*problems, Problem{Path: path, Message: fmt.Sprintf("environment variable %s is not set", m[1])})
			return ""
		})
	}
}

// applyEnvOverrides lets the environment supply what deployments keep out
// of files: the master key, and the STS endpoint and region.
func applyEnvOverrides(f *File, env LookupEnv) {
	if v, ok := env("FEDGATE_MASTER_KEY"); ok && f.Keys.MasterKey == "" && f.Keys.MasterKeyFile == "" {
		f.Keys.MasterKey = v
	}
	if v, ok := env("FEDGATE_STS_ENDPOINT"); ok && v != "" {
		f.STS.Endpoint = v
	}
	if v, ok := env("FEDGATE_STS_REGION"); ok && v != "" {
		f.STS.Region = v
	}
	// postgres (store backends): the connection string, which may hold a
	// password, from the environment; it selects the postgres driver unless
	// the file names a driver.
	if v, ok := env("FEDGATE_STORE_DSN"); ok && v != "" {
		f.Store.DSN = v
		if f.Store.Driver == "" {
			f.Store.Driver = StoreDriverPostgres
		}
	}
}
