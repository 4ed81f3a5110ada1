package rules

import (
	"encoding/json"
	"strconv"
)

// scalarString returns the canonical string form of a scalar claim value:
// strings as they are, bools as "true"/"false", numbers in their shortest
// decimal form ("42", not "42.0"). Maps, lists and other types are not
// scalars.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case json.Number:
		return canonicalNumber(x), true
	}
	return "", false
}

// canonicalNumber makes json.Number agree with the float64 a plain
// json.Unmarshal would give ("42.0" -> "42"), keeping integers exact.
func canonicalNumber(n json.Number) string {
	if i, err := n.Int64(); err == nil {
		return strconv.FormatInt(i, 10)
	}
	if f, err := n.Float64(); err == nil {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return string(n)
}

// listLen reports whether v is a list claim and how long it is.
func listLen(v any) (int, bool) {
	switch x := v.(type) {
	case []any:
		return len(x), true
	case []string:
		return len(x), true
	}
	return 0, false
}

// listElem returns element i of a list claim in canonical string form; ok
// is false for elements that are not scalars.
func listElem(v any, i int) (string, bool) {
	switch x := v.(type) {
	case []any:
		return scalarString(x[i])
	case []string:
		return x[i], true
	}
	return "", false
}

// present reports whether a resolved value counts as present: not null
// and not an empty list.
func present(v any) bool {
	if v == nil {
		return false
	}
	if n, ok := listLen(v); ok {
		return n > 0
	}
	return true
}
