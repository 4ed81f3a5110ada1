package config

// The configuration reference (docs/configuration.md) must list exactly the
// keys that `fedgate check` accepts. These tests compute the accepted keys by
// walking File with reflection, the way go.yaml.in/yaml/v3 maps YAML keys to
// fields, and compare them with the key column of the reference's tables.
// A second test feeds every key, and a misspelling of every key, to Parse
// (what LoadFile and `fedgate check` use), so the walk is known to match the
// strict decoding.
//
// Keys are written as in the reference:
//   - sections are joined with dots: server.listen;
//   - an element of a list of sections is []: pools[].rules[].match[].claim;
//   - a map, a list of scalars and a type with its own unmarshaller (such as
//     Duration) is one key: pools[].principal_tags, server.trusted_proxies;
//   - a map of sections, should one appear, has the element <key>:
//     foo.<key>.bar.
//
// In docs/configuration.md, a table whose header's first cell is "key" is a
// key table. The first cell of each of its rows holds one key, or several
// keys separated by commas, each written in full inside backticks
// ("`store.driver`, `store.path`"); anything else in that cell is an error.
// Every key that holds a value must be in a key table. A row may also name a
// section or list of sections (server, pools[].rules), which is optional.

import (
	"bufio"
	"encoding"
	"fedgate/idp/registry"
	"fedgate/idp/settings"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// refDocPath is the configuration reference, relative to this package.
var refDocPath = filepath.Join("..", "..", "docs", "configuration.md")

// refKey is one key that the configuration accepts.
type refKey struct {
	typ  reflect.Type // what the key decodes into
	leaf bool         // holds a value; false for a section or a list of sections
}

// refWalker collects the accepted keys of a type.
type refWalker struct {
	t       *testing.T
	keys    map[string]refKey
	ignored []string // keys of fields tagged yaml:"-", which decoding refuses
}

var (
	refYAMLUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()
	refTextUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	// yaml/v3 still honours the v2 form of UnmarshalYAML.
	refObsoleteUnmarshaler = reflect.TypeFor[interface {
		UnmarshalYAML(unmarshal func(any) error) error
	}]()
)

// refCustom reports whether yaml/v3 hands t's YAML node to t itself.
func refCustom(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(refYAMLUnmarshaler) || p.Implements(refTextUnmarshaler) || p.Implements(refObsoleteUnmarshaler)
}

func refDeref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// refIsSection reports whether t decodes from a YAML mapping field by field.
func refIsSection(t reflect.Type) bool {
	t = refDeref(t)
	return t.Kind() == reflect.Struct && (!refCustom(t) || t == reflect.TypeFor[Provider]())
}

func refJoin(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// walk records the key at path, of type t, and every key below it.
func (w *refWalker) walk(t reflect.Type, path string) {
	t = refDeref(t)
	switch {
	case t == reflect.TypeFor[Provider]():
		// A provider decodes its common keys, then the rest into the
		// settings of its type: it accepts every registered type's keys.
		w.keys[path] = refKey{typ: t}
		w.fields(reflect.TypeFor[providerCommon](), path)
		for _, typ := range registry.Types() {
			w.fields(refDeref(reflect.TypeOf(typ.New())), path)
		}
	case refCustom(t):
		w.keys[path] = refKey{typ: t, leaf: true}
	case t.Kind() == reflect.Struct:
		if path != "" {
			w.keys[path] = refKey{typ: t}
		}
		w.fields(t, path)
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && refIsSection(t.Elem()):
		w.keys[path] = refKey{typ: t}
		w.walk(t.Elem(), path+"[]")
	case t.Kind() == reflect.Map && refIsSection(t.Elem()):
		w.keys[path] = refKey{typ: t}
		w.walk(t.Elem(), path+".<key>")
	default:
		w.keys[path] = refKey{typ: t, leaf: true}
	}
}

// fields walks the fields of struct t, named as yaml/v3 names them.
func (w *refWalker) fields(t reflect.Type, prefix string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue // unexported: yaml/v3 ignores it
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			w.ignored = append(w.ignored, refJoin(prefix, strings.ToLower(f.Name)))
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if slices.Contains(strings.Split(opts, ","), "inline") {
			ft := refDeref(f.Type)
			if ft.Kind() != reflect.Struct {
				w.t.Fatalf("%s: inline %s field %s: the reference test only knows inline structs", prefix, ft.Kind(), f.Name)
			}
			w.fields(ft, prefix)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml/v3's default key
		}
		w.walk(f.Type, refJoin(prefix, name))
	}
}

// refAcceptedKeys walks File.
func refAcceptedKeys(t *testing.T) *refWalker {
	t.Helper()
	w := &refWalker{t: t, keys: map[string]refKey{}}
	w.walk(reflect.TypeFor[File](), "")
	// Guard against a walk that silently finds nothing: keys from a plain
	// field, a list of sections, another package's types and an inline struct.
	for _, k := range []string{"server.listen", "pools[].rules[].match[].claim", "providers[].users[].password_hash", "providers[].idp_metadata_url", "server.session_ttl"} {
		if key, ok := w.keys[k]; !ok || !key.leaf {
			t.Fatalf("the walk of config.File did not find the key %s", k)
		}
	}
	return w
}

// refCellKey is one backticked key in a first cell.
var refCellKey = regexp.MustCompile("`([^`]*)`")

// refDocKeys reads the key column of every key table in the reference and
// returns each key with the line it is on.
func refDocKeys(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the configuration reference: %v", err)
	}
	defer f.Close()
	keys := map[string]int{}
	inTable, keyTable := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		cells := strings.Split(line, "|")
		first := strings.TrimSpace(cells[1])
		if !inTable { // the header row
			inTable = true
			keyTable = strings.EqualFold(first, "key")
			continue
		}
		if !keyTable || strings.Trim(first, "-: ") == "" {
			continue // another table, or the row under the header
		}
		if rest := strings.Trim(refCellKey.ReplaceAllString(first, ""), ", "); rest != "" || !refCellKey.MatchString(first) {
			t.Errorf("%s:%d: the first cell must be keys in backticks separated by commas, got %q", path, n, first)
			continue
		}
		for _, m := range refCellKey.FindAllStringSubmatch(first, -1) {
			if prev, dup := keys[m[1]]; dup {
				t.Errorf("%s:%d: %s is already listed on line %d", path, n, m[1], prev)
			}
			keys[m[1]] = n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if len(keys) == 0 {
		t.Fatalf("%s has no key table (a table whose first header cell is \"key\")", path)
	}
	return keys
}

// refCompare lists the value keys missing from the doc and the doc's keys
// that the configuration does not accept.
func refCompare(accepted map[string]refKey, doc map[string]int) (missing, unknown []string) {
	for k, key := range accepted {
		if _, ok := doc[k]; key.leaf && !ok {
			missing = append(missing, k)
		}
	}
	for k := range doc {
		if _, ok := accepted[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(unknown)
	return missing, unknown
}

// TestConfigurationReferenceListsEveryKey keeps docs/configuration.md true:
// every key `fedgate check` accepts is documented, and nothing else is.
func TestConfigurationReferenceListsEveryKey(t *testing.T) {
	w := refAcceptedKeys(t)
	doc := refDocKeys(t, refDocPath)
	missing, unknown := refCompare(w.keys, doc)
	if len(missing) > 0 {
		t.Errorf("%s does not document these configuration keys (add a row to a key table):\n  %s", refDocPath, strings.Join(missing, "\n  "))
	}
	for _, k := range unknown {
		t.Errorf("%s:%d documents %s, which the configuration does not accept", refDocPath, doc[k], k)
	}
}

// TestConfigurationReferenceComparison checks the comparison itself: a key
// dropped from the doc, and a key the configuration lacks, are both reported.
func TestConfigurationReferenceComparison(t *testing.T) {
	w := refAcceptedKeys(t)
	doc := map[string]int{}
	for k, key := range w.keys {
		if key.leaf {
			doc[k] = 1
		}
	}
	if missing, unknown := refCompare(w.keys, doc); len(missing)+len(unknown) > 0 {
		t.Fatalf("a doc of every key: missing %v, unknown %v", missing, unknown)
	}
	delete(doc, "pools[].rules[].match[].claim")
	doc["server.no_such_key"] = 1
	doc["pools[].rules"] = 1 // a list of sections may be listed
	missing, unknown := refCompare(w.keys, doc)
	if !reflect.DeepEqual(missing, []string{"pools[].rules[].match[].claim"}) || !reflect.DeepEqual(unknown, []string{"server.no_such_key"}) {
		t.Fatalf("missing %v, unknown %v; want [pools[].rules[].match[].claim] and [server.no_such_key]", missing, unknown)
	}
}

// TestConfigurationReferenceMatchesStrictDecoding feeds the walk's keys to the
// real loader: each one is accepted, and a misspelt one is refused as
// unknown, so the walk describes what `fedgate check` accepts.
func TestConfigurationReferenceMatchesStrictDecoding(t *testing.T) {
	w := refAcceptedKeys(t)
	noEnv := func(string) (string, bool) { return "", false }
	decodeProblems := func(ps Problems) []string {
		var out []string
		for _, p := range ps {
			if strings.Contains(p.Message, "not found in type") || strings.Contains(p.Message, "cannot unmarshal") || strings.HasPrefix(p.Message, "not valid YAML") {
				out = append(out, p.String())
			}
		}
		return out
	}

	t.Run("every key at once is decoded", func(t *testing.T) {
		root := map[string]any{}
		for k, key := range w.keys {
			if key.leaf {
				refSetKey(root, k, refSample(key.typ))
			}
		}
		data, err := yaml.Marshal(root)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(data, noEnv)
		ps, _ := err.(Problems)
		if err != nil && ps == nil {
			t.Fatalf("Parse: %v", err)
		}
		if bad := decodeProblems(ps); len(bad) > 0 {
			t.Fatalf("the loader refused keys the walk found:\n%s\n%s", strings.Join(bad, "\n"), data)
		}
	})

	t.Run("each misspelt key is refused", func(t *testing.T) {
		var bad []string
		for k := range w.keys {
			bad = append(bad, k+"_unknown")
		}
		bad = append(bad, w.ignored...) // fields tagged yaml:"-"
		sort.Strings(bad)
		for _, k := range bad {
			root := map[string]any{}
			refSetKey(root, k, "x")
			data, err := yaml.Marshal(root)
			if err != nil {
				t.Fatal(err)
			}
			last := k[strings.LastIndex(k, ".")+1:]
			_, err = Parse(data, noEnv)
			ps, _ := err.(Problems)
			refused := false
			for _, p := range ps {
				refused = refused || strings.Contains(p.Message, "field "+last+" not found in type")
			}
			if !refused {
				t.Errorf("the loader accepted the unknown key %s: %v", k, err)
			}
		}
	})

	t.Run("fedgate check refuses an unknown key", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "fedgate.yaml")
		if err := os.WriteFile(path, []byte("server:\n  listen: 127.0.0.1:8080\n  listen_adress: 127.0.0.1:9090\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFile(path, noEnv)
		if err == nil || !strings.Contains(err.Error(), "field listen_adress not found in type config.Server") {
			t.Fatalf("LoadFile = %v, want the unknown key listen_adress refused", err)
		}
	})
}

// refSet puts v at the dotted key in a YAML tree, making a one-element list
// for each [] and the map key "k" for each <key>.
func refSet(node map[string]any, key string, v any) {
	segs := strings.Split(key, ".")
	for i, seg := range segs {
		name, list := strings.CutSuffix(seg, "[]")
		if name == "<key>" {
			name = "k"
		}
		if i == len(segs)-1 {
			node[name] = v
			return
		}
		var next map[string]any
		if list {
			l, _ := node[name].([]any)
			if len(l) == 0 {
				l = []any{map[string]any{}}
				node[name] = l
			}
			next = l[0].(map[string]any)
		} else {
			m, ok := node[name].(map[string]any)
			if !ok {
				m = map[string]any{}
				node[name] = m
			}
			next = m
		}
		node = next
	}
}

// refSetKey is refSet, except that a provider key goes into an entry of a
// type that has it (an entry per type), since each type accepts its own keys.
func refSetKey(root map[string]any, key string, v any) {
	rest, ok := strings.CutPrefix(key, "providers[].")
	if !ok {
		refSet(root, key, v)
		return
	}
	owner := registry.Types()[0].Name
	first, _, _ := strings.Cut(strings.SplitN(rest, ".", 2)[0], "[")
	for _, t := range registry.Types() {
		if slices.ContainsFunc(settings.Fields(t.New()), func(f settings.Field) bool { return f.Key == first }) {
			owner = t.Name
			break
		}
	}
	entries, _ := root["providers"].([]any)
	var entry map[string]any
	for _, e := range entries {
		if m := e.(map[string]any); m["type"] == owner {
			entry = m
		}
	}
	if entry == nil {
		entry = map[string]any{"id": owner, "type": owner}
		root["providers"] = append(entries, entry)
	}
	if rest == "id" || rest == "type" {
		return // the entry names its own, valid type
	}
	refSet(entry, rest, v)
}

// refSample is a value of t's kind that decodes without a type error.
func refSample(t reflect.Type) any {
	if t == reflect.TypeFor[Duration]() {
		return "90s"
	}
	if refCustom(t) {
		return nil // null decodes into anything
	}
	switch t.Kind() {
	case reflect.String:
		return "x"
	case reflect.Bool:
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return 1
	case reflect.Float32, reflect.Float64:
		return 1.5
	case reflect.Slice, reflect.Array:
		return []any{refSample(t.Elem())}
	case reflect.Map:
		return map[string]any{"k": refSample(t.Elem())}
	case reflect.Interface:
		return "x"
	}
	return nil
}
