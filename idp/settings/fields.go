package settings

import (
	"reflect"
	"strings"
)

// Kind is how a field is written in a form.
type Kind string

// The kinds of fields.
const (
	KindText     Kind = "text"     // one line
	KindBlock    Kind = "block"    // several lines (PEM, XML)
	KindList     Kind = "list"     // words, one value each
	KindBool     Kind = "bool"     // a checkbox
	KindDuration Kind = "duration" // "90s", "15m"
	KindOther    Kind = "other"    // structured: edited through the API or the file only
)

// Field describes one setting of a provider type.
type Field struct {
	// Key is the setting's name in YAML and JSON.
	Key  string
	Kind Kind
	// Secret fields are write-only: redacted when read back, kept when a
	// write sends the placeholder, and hidden in history diffs.
	Secret bool
	// Help is one line for the admin form.
	Help string
}

// Fields lists the settings of a configuration struct (or a pointer to
// one) from its tags: `json:"key,omitempty"` names it, `secret:"true"`
// marks a secret, `form:"block"` asks for several lines, `help:"..."` says
// what it is for. Fields without a json name are not settings.
func Fields(cfg any) []Field {
	t := reflect.TypeOf(cfg)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []Field
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if key == "" || key == "-" || !sf.IsExported() {
			continue
		}
		f := Field{Key: key, Secret: sf.Tag.Get("secret") == "true", Help: sf.Tag.Get("help"), Kind: kindOf(sf)}
		out = append(out, f)
	}
	return out
}

var durationType = reflect.TypeOf(Duration(0))

func kindOf(sf reflect.StructField) Kind {
	if sf.Tag.Get("form") == "block" {
		return KindBlock
	}
	switch {
	case sf.Type == durationType:
		return KindDuration
	case sf.Type.Kind() == reflect.String:
		return KindText
	case sf.Type.Kind() == reflect.Bool:
		return KindBool
	case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.String:
		return KindList
	default:
		return KindOther
	}
}

// SecretKeys are the keys of the secret fields of cfg.
func SecretKeys(cfg any) []string {
	var out []string
	for _, f := range Fields(cfg) {
		if f.Secret {
			out = append(out, f.Key)
		}
	}
	return out
}
