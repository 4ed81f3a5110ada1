package settings

import (
	"reflect"
	"strings"
)

// Secrets are fields tagged `secret:"true"`: string fields of the
// configuration struct, or of the structs in one of its list fields (whose
// elements are matched by the field tagged `key:"true"`, e.g. a username).
// They are write-only: Redact hides them when a configuration is read
// back, KeepSecrets restores them when a write sends the placeholder.

// Redact replaces every non-empty secret of cfg (a pointer to a struct)
// with placeholder.
func Redact(cfg any, placeholder string) {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	redact(v.Elem(), placeholder)
}

func redact(v reflect.Value, placeholder string) {
	t := v.Type()
	for i := range t.NumField() {
		sf, fv := t.Field(i), v.Field(i)
		switch {
		case !sf.IsExported():
		case isSecret(sf) && fv.Kind() == reflect.String && fv.String() != "":
			fv.SetString(placeholder)
		case isStructList(sf.Type):
			for j := range fv.Len() {
				redact(fv.Index(j), placeholder)
			}
		}
	}
}

// KeepSecrets makes next (a pointer to a struct) keep the secrets of old
// (the stored configuration of the same provider, nil for a new one)
// wherever next sends placeholder. bound says whether a stored secret may
// follow the change (the same type and, for an issuer, the same issuer);
// when it may not, the secret is dropped and its key is returned, so the
// caller can ask for it again. List elements keep the secrets of the old
// element with the same key, whatever bound says.
func KeepSecrets(next, old any, placeholder string, bound bool) (reenter []string) {
	nv := reflect.ValueOf(next)
	if nv.Kind() != reflect.Pointer || nv.IsNil() {
		return nil
	}
	var ov reflect.Value
	if o := reflect.ValueOf(old); o.Kind() == reflect.Pointer && !o.IsNil() {
		ov = o.Elem()
	}
	sameType := ov.IsValid() && ov.Type() == nv.Elem().Type()
	n := nv.Elem()
	t := n.Type()
	for i := range t.NumField() {
		sf, fv := t.Field(i), n.Field(i)
		if !sf.IsExported() {
			continue
		}
		switch {
		case isSecret(sf) && fv.Kind() == reflect.String:
			if fv.String() != placeholder {
				continue
			}
			fv.SetString("")
			stored := fieldByKey(ov, jsonKey(sf))
			switch {
			case stored == "":
			case sameType && bound:
				fv.SetString(stored)
			default:
				reenter = append(reenter, jsonKey(sf))
			}
		case isStructList(sf.Type):
			var oldList reflect.Value
			if sameType {
				oldList = ov.Field(i)
			}
			keepListSecrets(fv, oldList, placeholder)
		}
	}
	return reenter
}

// keepListSecrets gives each element whose secret is the placeholder or
// empty the secret of the old element with the same key.
func keepListSecrets(list, old reflect.Value, placeholder string) {
	et := list.Type().Elem()
	keyField := -1
	for i := range et.NumField() {
		if et.Field(i).Tag.Get("key") == "true" {
			keyField = i
		}
	}
	for j := range list.Len() {
		e := list.Index(j)
		for i := range et.NumField() {
			sf := et.Field(i)
			if !isSecret(sf) || sf.Type.Kind() != reflect.String {
				continue
			}
			fv := e.Field(i)
			if fv.String() != placeholder && fv.String() != "" {
				continue
			}
			fv.SetString("")
			if keyField < 0 || !old.IsValid() {
				continue
			}
			for k := range old.Len() {
				if o := old.Index(k); o.Field(keyField).String() == e.Field(keyField).String() {
					fv.SetString(o.Field(i).String())
				}
			}
		}
	}
}

// SecretKeys are the keys of every secret of cfg, also in its lists.
func SecretKeys(cfg any) []string {
	t := reflect.TypeOf(cfg)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return secretKeys(t)
}

func secretKeys(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		sf := t.Field(i)
		switch {
		case !sf.IsExported():
		case isSecret(sf):
			out = append(out, jsonKey(sf))
		case isStructList(sf.Type):
			out = append(out, secretKeys(sf.Type.Elem())...)
		}
	}
	return out
}

func isSecret(sf reflect.StructField) bool { return sf.Tag.Get("secret") == "true" }

func isStructList(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct
}

func jsonKey(sf reflect.StructField) string {
	k, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
	if k == "" {
		return sf.Name
	}
	return k
}

// fieldByKey is the string value of the field with JSON key key in v (a
// struct), or "".
func fieldByKey(v reflect.Value, key string) string {
	if !v.IsValid() {
		return ""
	}
	t := v.Type()
	for i := range t.NumField() {
		if sf := t.Field(i); sf.IsExported() && jsonKey(sf) == key && sf.Type.Kind() == reflect.String {
			return v.Field(i).String()
		}
	}
	return ""
}
