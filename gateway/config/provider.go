package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"fedgate/idp"
	"fedgate/idp/registry"
	"fedgate/idp/settings"
)

// Provider is one upstream identity provider: the keys every type has,
// and the settings of its type (see idp/registry). In YAML and JSON the
// settings sit beside id, type and display_name.
type Provider struct {
	ID          string
	Type        string
	DisplayName string
	// Settings is nil when Type names no known type.
	Settings idp.Config
	// decodeProblems are keys of the entry its type does not have, found
	// while decoding YAML; Validate reports them at their paths.
	decodeProblems settings.Problems
}

// providerCommon are the keys every provider entry has.
type providerCommon struct {
	ID          string `yaml:"id" json:"id"`
	Type        string `yaml:"type" json:"type"`
	DisplayName string `yaml:"display_name" json:"display_name,omitempty"`
}

var commonProviderKeys = map[string]bool{"id": true, "type": true, "display_name": true}

// UnmarshalYAML decodes the common keys, then the rest into the settings
// of the named type; a key the type does not have is an error naming it.
func (p *Provider) UnmarshalYAML(n *yaml.Node) error {
	var common providerCommon
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a provider must be a mapping", n.Line)}}
	}
	rest := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	seen := map[string]int{}
	var dups settings.Problems
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		// The entry is decoded key by key here, so yaml's own check for a
		// key given twice (a later id silently winning) must be made here.
		if line, twice := seen[k.Value]; twice {
			dups.Add(k.Value, "line %d: mapping key %q already defined at line %d", k.Line, k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		if !commonProviderKeys[k.Value] {
			rest.Content = append(rest.Content, k, v)
			continue
		}
		var s string
		if err := v.Decode(&s); err != nil {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s must be a string", v.Line, k.Value)}}
		}
		switch k.Value {
		case "id":
			common.ID = s
		case "type":
			common.Type = s
		case "display_name":
			common.DisplayName = s
		}
	}
	*p = Provider{ID: common.ID, Type: common.Type, DisplayName: common.DisplayName, decodeProblems: dups}
	t, ok := registry.Lookup(common.Type)
	if !ok {
		return nil // Validate names the unknown type
	}
	cfg := t.New()
	p.Settings = cfg
	if len(rest.Content) > 0 {
		known := settingKeys(cfg)
		kept := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for i := 0; i+1 < len(rest.Content); i += 2 {
			k := rest.Content[i]
			if !known[k.Value] {
				p.decodeProblems.Add(k.Value, "line %d: field %s not found in type %s provider (its settings: %s)", k.Line, k.Value, t.Name, strings.Join(sortedKeys(known), ", "))
				continue
			}
			kept.Content = append(kept.Content, k, rest.Content[i+1])
		}
		raw, err := yaml.Marshal(kept)
		if err != nil {
			return err
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil {
			return shiftLines(err, n.Line-1)
		}
	}
	return nil
}

var lineRef = regexp.MustCompile(`line (\d+)`)

// shiftLines makes the line numbers of a nested decode's errors count from
// the start of the file again.
func shiftLines(err error, by int) error {
	te, ok := err.(*yaml.TypeError)
	if !ok {
		return err
	}
	out := &yaml.TypeError{}
	for _, msg := range te.Errors {
		out.Errors = append(out.Errors, lineRef.ReplaceAllStringFunc(msg, func(m string) string {
			n, _ := strconv.Atoi(strings.TrimPrefix(m, "line "))
			return "line " + strconv.Itoa(n+by)
		}))
	}
	return out
}

// MarshalYAML writes the entry as it is read.
func (p Provider) MarshalYAML() (any, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return nil, err
	}
	return n.Content[0], nil
}

// UnmarshalJSON is UnmarshalYAML for stored documents and the admin API.
func (p *Provider) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	var common providerCommon
	rest := map[string]json.RawMessage{}
	for k, v := range fields {
		var dst *string
		switch k {
		case "id":
			dst = &common.ID
		case "type":
			dst = &common.Type
		case "display_name":
			dst = &common.DisplayName
		default:
			rest[k] = v
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("provider %s must be a string", k)
		}
	}
	*p = Provider{ID: common.ID, Type: common.Type, DisplayName: common.DisplayName}
	t, ok := registry.Lookup(common.Type)
	if !ok {
		return nil // Validate names the unknown type
	}
	cfg := t.New()
	known := settingKeys(cfg)
	for k := range rest {
		if !known[k] {
			return fmt.Errorf("json: unknown field %q (%s providers have: %s)", k, t.Name, strings.Join(sortedKeys(known), ", "))
		}
	}
	raw, err := json.Marshal(rest)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("provider %q: %w", common.ID, err)
	}
	p.Settings = cfg
	return nil
}

// MarshalJSON writes id, type and display_name, then the settings.
func (p Provider) MarshalJSON() ([]byte, error) {
	head, err := json.Marshal(providerCommon{ID: p.ID, Type: p.Type, DisplayName: p.DisplayName})
	if err != nil || p.Settings == nil {
		return head, err
	}
	body, err := json.Marshal(p.Settings)
	if err != nil {
		return nil, err
	}
	body = bytes.TrimSpace(body)
	if len(body) <= 2 { // {}
		return head, nil
	}
	out := append(head[:len(head)-1:len(head)-1], ',')
	return append(out, body[1:]...), nil
}

func settingKeys(cfg idp.Config) map[string]bool {
	out := map[string]bool{}
	for _, f := range settings.Fields(cfg) {
		out[f.Key] = true
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Clone is a deep copy: the settings are a pointer, and editing a copy
// must not edit the original.
func (p Provider) Clone() Provider {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // plain data always encodes
	}
	var out Provider
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// Issuer is the provider's issuer URL when its type has one.
func (p *Provider) Issuer() string {
	if ic, ok := p.Settings.(idp.IssuerConfig); ok {
		return ic.IssuerURL()
	}
	return ""
}

// SecretDestination is where the provider's secrets are sent: what its
// type names (idp.SecretDestinationConfig), else its issuer.
func (p *Provider) SecretDestination() string {
	if sd, ok := p.Settings.(idp.SecretDestinationConfig); ok {
		return sd.SecretDestination()
	}
	return p.Issuer()
}

// DecodeProblems are the problems found while decoding the entry from YAML
// (keys its type does not have, keys given twice), at paths below at. A
// copy of the provider (Clone, a JSON round trip) does not keep them, so a
// caller that copies decoded providers collects them first.
func (p *Provider) DecodeProblems(at string) Problems {
	var out Problems
	for _, sp := range p.decodeProblems {
		out = append(out, Problem{Path: at + "." + sp.Key, Message: sp.Message})
	}
	return out
}
