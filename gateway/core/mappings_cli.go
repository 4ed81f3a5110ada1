package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// SourceCLI marks versions written by `fedgate mappings apply`.
const SourceCLI = "cli"

// maxMappingsFile caps a mappings file read by `fedgate mappings apply`.
const maxMappingsFile = config.MaxFileBytes

// mappingsFile is the YAML shape of `fedgate mappings export|apply`.
type mappingsFile struct {
	Providers []config.Provider `yaml:"providers"`
	Pools     []config.Pool     `yaml:"pools"`
}

// ExportMappings writes the live mappings as YAML, secrets as the
// placeholder (applying the file again keeps them).
func ExportMappings(ctx context.Context, st store.Store, box *secret.Box, w io.Writer) (int64, error) {
	v, err := st.LatestConfig(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading live configuration: %w", err)
	}
	m, err := OpenMappings(box, v)
	if err != nil {
		return 0, err
	}
	js, err := json.Marshal(RedactMappings(m))
	if err != nil {
		return 0, err
	}
	// YAML is a superset of JSON: parsing the JSON into a node keeps the
	// field order; block style makes it read like a hand-written file.
	var node yaml.Node
	if err := yaml.Unmarshal(js, &node); err != nil {
		return 0, err
	}
	blockStyle(&node)
	fmt.Fprintf(w, "# fedgate mappings, version %d (%s by %s). Secrets show as %s; applying keeps them.\n", v.Version, v.Source, v.Author, SecretPlaceholder)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return 0, err
	}
	return v.Version, enc.Close()
}

func blockStyle(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		n.Style &^= yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// OpenMappings unseals and decodes a stored configuration version.
func OpenMappings(box *secret.Box, v *store.ConfigVersion) (config.Mappings, error) {
	var m config.Mappings
	doc, err := box.Open(v.Doc, []byte("config"))
	if err != nil {
		return m, fmt.Errorf("opening configuration version %d: %w", v.Version, err)
	}
	if err := json.Unmarshal(doc, &m); err != nil {
		return m, fmt.Errorf("decoding configuration version %d: %w", v.Version, err)
	}
	return m, nil
}

// MappingsPlan is what applying a mappings file would change.
type MappingsPlan struct {
	From     int64 // the live version the plan is based on
	next     config.Mappings
	diff     []DiffLine
	Problems config.Problems
}

// Changes is how many settings differ.
func (p *MappingsPlan) Changes() int { return len(p.diff) }

// DiffText is the plan's diff, one setting a line, secrets hidden.
func (p *MappingsPlan) DiffText() string { return FormatDiff(p.diff) }

// FormatDiff writes diff lines one setting a line: + added, - removed,
// ~ changed (secrets hidden).
func FormatDiff(diff []DiffLine) string {
	var b strings.Builder
	for _, d := range diff {
		switch d.Op {
		case "added":
			fmt.Fprintf(&b, "+ %s: %s\n", d.Path, d.New)
		case "removed":
			fmt.Fprintf(&b, "- %s: %s\n", d.Path, d.Old)
		default:
			fmt.Fprintf(&b, "~ %s: %s -> %s\n", d.Path, d.Old, d.New)
		}
	}
	return b.String()
}

// PlanMappings reads a mappings file and validates it, with the file
// configuration f, exactly as `fedgate check` would.
func PlanMappings(ctx context.Context, st store.Store, box *secret.Box, f *config.File, r io.Reader) (*MappingsPlan, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxMappingsFile+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxMappingsFile {
		return nil, fmt.Errorf("the mappings file is larger than %d bytes", maxMappingsFile)
	}
	var in mappingsFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("not a mappings file: %w", err)
	}
	v, err := st.LatestConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading live configuration: %w", err)
	}
	cur, err := OpenMappings(box, v)
	if err != nil {
		return nil, err
	}
	next := config.Mappings{Providers: in.Providers, Pools: in.Pools}
	// Decoding problems live in the decoded providers only: collect them
	// before ReplaceDoc copies the providers.
	var decoded config.Problems
	for i := range in.Providers {
		decoded = append(decoded, in.Providers[i].DecodeProblems(fmt.Sprintf("providers[%d]", i))...)
	}
	kept := append(decoded, ReplaceDoc(&cur, next)...)
	next = cur
	full := *f
	full.Providers, full.Pools = next.Providers, next.Pools
	full.ApplyDefaults()
	plan := &MappingsPlan{From: v.Version, next: next, Problems: append(kept, full.Validate()...)}
	SortProblemsByPath(plan.Problems)
	live, err := OpenMappings(box, v)
	if err != nil {
		return nil, err
	}
	plan.diff = DiffMappings(live, next)
	return plan, nil
}

// ApplyMappings stores a valid plan as one version with its audit entry;
// it fails with store.ErrConflict when the live version moved meanwhile.
func ApplyMappings(ctx context.Context, st store.Store, box *secret.Box, plan *MappingsPlan, actor, comment string) (int64, error) {
	if len(plan.Problems) > 0 {
		return 0, plan.Problems
	}
	doc, err := json.Marshal(plan.next)
	if err != nil {
		return 0, err
	}
	sealed, err := box.Seal(doc, []byte("config"))
	if err != nil {
		return 0, err
	}
	if comment == "" {
		comment = fmt.Sprintf("mappings applied from a file (%d change(s))", len(plan.diff))
	}
	return st.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: sealed, Hash: box.Digest(doc), Author: actor, Source: SourceCLI, Comment: comment},
		plan.From, store.AuditEntry{Kind: store.AuditAdminChange, Actor: actor, Result: store.AuditOK, Reason: comment, Source: "local"})
}

// DiffFileMappings is what making the file's mappings live would change:
// the live version and the differences from it to the file's.
func DiffFileMappings(ctx context.Context, st store.Store, box *secret.Box, f *config.File) (*store.ConfigVersion, []DiffLine, error) {
	v, err := st.LatestConfig(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading live configuration: %w", err)
	}
	live, err := OpenMappings(box, v)
	if err != nil {
		return nil, nil, err
	}
	return v, DiffMappings(live, f.Mappings()), nil
}
