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
	KindDuration Kind = "duration" // "90s", "15m"; a *Duration may be unset, which is not 0
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
	// Label names the field on the admin form.
	Label string
	// Help is one line for the admin form.
	Help string
}

// Fields lists the settings of a configuration struct (or a pointer to
// one) from its tags: `json:"key,omitempty"` names it, `secret:"true"`
// marks a secret, `form:"block"` asks for several lines, `label:"..."`
// names it on a form and `help:"..."` says what it is for. Fields without
// a json name are not settings.
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
		f := Field{Key: key, Secret: sf.Tag.Get("secret") == "true", Label: sf.Tag.Get("label"), Help: sf.Tag.Get("help"), Kind: kindOf(sf)}
		if f.Label == "" {
			f.Label = strings.ToUpper(key[:1]) + strings.ReplaceAll(key[1:], "_", " ")
		}
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
	case sf.Type == durationType, sf.Type == reflect.PointerTo(durationType):
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

// Value is the field of cfg (a pointer to a struct) with JSON key key,
// settable.
func Value(cfg any, key string) (reflect.Value, bool) {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return reflect.Value{}, false
	}
	v = v.Elem()
	t := v.Type()
	for i := range t.NumField() {
		if sf := t.Field(i); sf.IsExported() && jsonKey(sf) == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// Entries are the key-field values of a list setting's elements (the
// usernames of a list of users), for a page that shows them.
func Entries(cfg any, key string) []string {
	v, ok := Value(cfg, key)
	if !ok || !isStructList(v.Type()) {
		return nil
	}
	et := v.Type().Elem()
	for i := range et.NumField() {
		if et.Field(i).Tag.Get("key") != "true" {
			continue
		}
		out := make([]string, 0, v.Len())
		for j := range v.Len() {
			out = append(out, v.Index(j).Field(i).String())
		}
		return out
	}
	return nil
}
