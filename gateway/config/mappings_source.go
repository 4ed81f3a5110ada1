package config

// Where the live providers, pools and rules come from.
const (
	// MappingsFromStore: the file seeds the store once; after that the
	// admin UI, API and `fedgate mappings apply` change them, and the
	// file's mappings are not applied (serve and check say so).
	MappingsFromStore = "store"
	// MappingsFromFile: the file is authoritative; every start applies it,
	// and the admin UI, API and `fedgate mappings apply` are read-only.
	MappingsFromFile = "file"
)

// MappingsSettings says where the live mappings come from.
type MappingsSettings struct {
	Source string `yaml:"source" json:"source"`
}

func (m *MappingsSettings) applyDefaults() {
	if m.Source == "" {
		m.Source = MappingsFromStore
	}
}

func (m MappingsSettings) validate(add func(path, format string, args ...any)) {
	if m.Source != MappingsFromStore && m.Source != MappingsFromFile {
		add("mappings.source", "must be file (the file is authoritative; the admin UI and API are read-only) or store (the file seeds once; admins edit at run time)")
	}
}
