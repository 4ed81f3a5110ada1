package admin

// Reading posted admin forms onto stored values.

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

// postedForm reads a posted admin form: only the fields it carries change
// what was stored (a field the page does not show stays as it is).
type postedForm struct {
	c          *gin.Context
	checkboxes map[string]bool
	errs       map[string]string
	// pick is which of several inputs of one name to read (default the first).
	pick map[string]int
	// section is the provider type whose section's checkboxes count.
	section string
}

// newPostedForm reads the request's form.
func newPostedForm(c *gin.Context) *postedForm {
	f := &postedForm{c: c, checkboxes: map[string]bool{}, errs: map[string]string{}, pick: map[string]int{}}
	for _, n := range words(c.PostForm("checkboxes")) {
		f.checkboxes[n] = true
	}
	return f
}

// get is the posted value of name, when the form has it.
func (f *postedForm) get(name string) (string, bool) {
	vs, ok := f.c.GetPostFormArray(name)
	if !ok || len(vs) == 0 {
		return "", false
	}
	if i := f.pick[name]; i < len(vs) {
		return vs[i], true
	}
	return vs[0], true
}

// text sets *dst to the trimmed field when the form has it.
func (f *postedForm) text(name string, dst *string) {
	if v, ok := f.get(name); ok {
		*dst = strings.TrimSpace(v)
	}
}

// textKeepingDefault is text for a field the page shows with def when
// nothing is stored: sending def back keeps "nothing stored".
func (f *postedForm) textKeepingDefault(name string, dst *string, def string) {
	if v, ok := f.get(name); ok {
		if v = strings.TrimSpace(v); v != def || *dst != "" {
			*dst = v
		}
	}
}

// block sets *dst from a textarea (XML, PEM) when the form has it: line
// ends as the browser sent them become \n, nothing else changes.
func (f *postedForm) block(name string, dst *string) {
	if v, ok := f.get(name); ok {
		if v = strings.ReplaceAll(v, "\r\n", "\n"); strings.TrimSpace(v) == "" {
			v = ""
		}
		*dst = v
	}
}

// list sets *dst to the field's words (nil for none) when the form has it.
func (f *postedForm) list(name string, dst *[]string) {
	if v, ok := f.get(name); ok {
		*dst = nil
		if w := words(v); len(w) > 0 {
			*dst = w
		}
	}
}

// check sets *dst from a checkbox the form lists in "checkboxes". A box of
// a key several sections share posts its section's type as its value (an
// unchecked box posts nothing, so positions do not tell them apart).
func (f *postedForm) check(name string, dst *bool) {
	if !f.checkboxes[name] {
		return
	}
	vs, _ := f.c.GetPostFormArray(name)
	*dst = slices.Contains(vs, "on") || (f.section != "" && slices.Contains(vs, f.section))
}

// duration sets *dst from a duration field ("" = none), or records a problem.
// optionalDuration is duration for a setting whose empty field means
// unset (its default), not 0.
func (f *postedForm) optionalDuration(name string, dst **config.Duration) {
	v, ok := f.get(name)
	if !ok {
		return
	}
	if strings.TrimSpace(v) == "" {
		*dst = nil
		return
	}
	d := new(config.Duration)
	f.duration(name, d)
	if _, bad := f.errs[name]; !bad {
		*dst = d
	}
}

func (f *postedForm) duration(name string, dst *config.Duration) {
	v, ok := f.get(name)
	if !ok {
		return
	}
	if v = strings.TrimSpace(v); v == "" {
		*dst = 0
		return
	}
	var d config.Duration
	if err := d.UnmarshalText([]byte(v)); err != nil {
		f.errs[name] = "must be a duration such as 30s or 2m"
		return
	}
	*dst = d
}

// secret sets *dst to a write-only field's new value, or to the
// placeholder (keep the stored one) when it is left empty.
func (f *postedForm) secret(name string, dst *string) {
	if v, _ := f.get(name); strings.TrimSpace(v) != "" {
		*dst = strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n"))
		return
	}
	*dst = core.SecretPlaceholder
}

// words splits a list field: spaces, commas and line ends separate.
func words(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\r' || r == '\t' })
}

// pairsText shows a map as the "key = value" lines parsePairs reads.
func pairsText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, m[k])
	}
	return b.String()
}

// parsePairs reads "key = value" lines.
func parsePairs(text string) (map[string]string, error) {
	out := map[string]string{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("line %d: write key = value", n+1)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
