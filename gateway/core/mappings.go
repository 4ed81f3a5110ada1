package core

import (
	"context"
	"encoding/json"
	"errors"
	"fedgate/gateway/config"
	"fedgate/idp/registry"
	"fedgate/idp/settings"
	"fmt"
	"sort"
	"strings"
)

// SecretPlaceholder stands for a stored secret in everything the admin
// surface shows; sent back, it keeps the stored value.
const SecretPlaceholder = "••••"

// CloneMappings deep-copies through JSON, so a change never touches the
// document it was read from.
func CloneMappings(m config.Mappings) config.Mappings {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // plain data always encodes
	}
	var out config.Mappings
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// RedactMappings hides every secret behind the placeholder.
func RedactMappings(m config.Mappings) config.Mappings {
	out := CloneMappings(m)
	for i := range out.Providers {
		out.Providers[i] = RedactProvider(out.Providers[i])
	}
	return out
}

// RedactProvider is p with every secret behind the placeholder.
func RedactProvider(p config.Provider) config.Provider {
	p = p.Clone()
	if p.Settings != nil {
		settings.Redact(p.Settings, SecretPlaceholder)
	}
	return p
}

// FindProvider is the index of the provider id in m, or -1.
func FindProvider(m *config.Mappings, id string) int {
	for i := range m.Providers {
		if m.Providers[i].ID == id {
			return i
		}
	}
	return -1
}

// FindPool is the index of the pool with this id or name in m, or -1.
func FindPool(m *config.Mappings, key string) int {
	for i := range m.Pools {
		if m.Pools[i].ID == key || m.Pools[i].Name == key {
			return i
		}
	}
	return -1
}

// CheckMappings validates a document and builds the snapshot a reload
// would build from it.
func (s *Core) CheckMappings(ctx context.Context, m config.Mappings) (*Snapshot, config.Problems, error) {
	f := *s.cfg
	f.Providers, f.Pools = m.Providers, m.Pools
	f.ApplyDefaults()
	if problems := f.Validate(); len(problems) > 0 {
		SortProblemsByPath(problems)
		return nil, problems, nil
	}
	snap, err := s.BuildSnapshot(ctx, 0, m)
	var ps config.Problems
	if errors.As(err, &ps) {
		return nil, ps, nil
	}
	return snap, nil, err
}

// SortProblemsByPath orders problems as the page and the API list them.
func SortProblemsByPath(ps config.Problems) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Path < ps[j-1].Path; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// SwapSnapshot makes a committed version live on this replica at once
// (others follow within reload_interval); an older one never replaces a newer.
func (s *Core) SwapSnapshot(next *Snapshot) {
	for {
		cur := s.snap.Load()
		if cur != nil && cur.Version >= next.Version {
			return
		}
		if s.snap.CompareAndSwap(cur, next) {
			return
		}
	}
}

// DiffLine is one difference between two documents, at a readable path
// such as pools[team].rules[2].role (providers by id, pools by name).
type DiffLine struct {
	Path string `json:"path"`
	Op   string `json:"op"` // added | removed | changed
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// secretKeys are the keys of every provider type's secrets: diffs show
// them as "(secret)", whatever their value.
func secretKeys() map[string]bool {
	out := map[string]bool{}
	for _, t := range registry.Types() {
		for _, k := range settings.SecretKeys(t.New()) {
			out[k] = true
		}
	}
	return out
}

// DiffMappings lists what changed from a to b, sorted by path.
func DiffMappings(a, b config.Mappings) []DiffLine {
	fa, fb := flattenMappings(a), flattenMappings(b)
	var out []DiffLine
	for p, va := range fa {
		vb, ok := fb[p]
		switch {
		case !ok:
			out = append(out, DiffLine{Path: p, Op: "removed", Old: va.shown})
		case va.raw != vb.raw:
			out = append(out, DiffLine{Path: p, Op: "changed", Old: va.shown, New: vb.shown})
		}
	}
	for p, vb := range fb {
		if _, ok := fa[p]; !ok {
			out = append(out, DiffLine{Path: p, Op: "added", New: vb.shown})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

type leaf struct{ raw, shown string }

// flattenMappings turns a document into path -> leaf value.
func flattenMappings(m config.Mappings) map[string]leaf {
	out := map[string]leaf{}
	secrets := secretKeys()
	for _, p := range m.Providers {
		flattenValue(out, fmt.Sprintf("providers[%s]", p.ID), p, secrets)
	}
	for _, p := range m.Pools {
		flattenValue(out, fmt.Sprintf("pools[%s]", p.Name), p, secrets)
	}
	return out
}

func flattenValue(out map[string]leaf, path string, v any, secrets map[string]bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return
	}
	flattenGeneric(out, path, generic, false, secrets)
}

func flattenGeneric(out map[string]leaf, path string, v any, secret bool, secrets map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			flattenGeneric(out, path+"."+k, c, secret || secrets[k], secrets)
		}
	case []any:
		for i, c := range t {
			flattenGeneric(out, fmt.Sprintf("%s[%d]", path, i), c, secret, secrets)
		}
	default:
		b, _ := json.Marshal(t)
		l := leaf{raw: string(b), shown: string(b)}
		if s, ok := t.(string); ok {
			l.shown = s
		}
		if secret {
			l.shown = "(secret)"
		}
		out[path] = l
	}
}

// ReplaceDoc makes m the next document, keeping secrets sent as
// placeholders; it reports the secrets that must be entered again.
func ReplaceDoc(m *config.Mappings, next config.Mappings) config.Problems {
	old := *m
	next = CloneMappings(next)
	var problems config.Problems
	for i := range next.Providers {
		var prev *config.Provider
		if j := FindProvider(&old, next.Providers[i].ID); j >= 0 {
			prev = &old.Providers[j]
		}
		problems = append(problems, KeepSecrets(&next.Providers[i], prev, fmt.Sprintf("providers[%d].", i))...)
	}
	*m = next
	return problems
}

// KeepSecrets puts the stored secrets (client_secret, sp_key, static
// users' password hashes) back where the new provider carries the
// placeholder (or leaves a user's hash empty). A stored client secret is
// never kept for a provider whose type or secret destination (its issuer,
// or the token endpoint its type names) changes, since it would be sent to
// the new one: a provider of the same type must have it entered again (the
// problem is reported at at+"client_secret", at being e.g.
// "providers[2]."), another type simply drops it. An sp_key is kept only
// while the provider stays a saml provider.
func KeepSecrets(next *config.Provider, old *config.Provider, at string) config.Problems {
	if next.Settings == nil {
		return nil
	}
	var stored any
	bound := false
	if old != nil && old.Settings != nil {
		stored = old.Settings
		bound = old.Type == next.Type && old.SecretDestination() == next.SecretDestination()
	}
	var problems config.Problems
	for _, key := range settings.KeepSecrets(next.Settings, stored, SecretPlaceholder, bound) {
		problems = append(problems, config.Problem{Path: at + key,
			Message: "where it is sent (the issuer or token endpoint) or the type changed: enter the " + strings.ReplaceAll(key, "_", " ") + " again (the stored one is not sent to a new destination)"})
	}
	return problems
}
