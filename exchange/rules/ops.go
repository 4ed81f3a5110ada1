package rules

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// opKind is a compiled condition operator.
type opKind uint8

const (
	opInvalid opKind = iota
	opEquals
	opNotEquals
	opContains
	opStartsWith
	opEndsWith
	opGlob
	opRegex
	opExists
	opAnyOf
)

// parseOp maps a configured operator name to its kind.
func parseOp(name string) opKind {
	switch name {
	case "equals":
		return opEquals
	case "not_equals":
		return opNotEquals
	case "contains":
		return opContains
	case "starts_with":
		return opStartsWith
	case "ends_with":
		return opEndsWith
	case "glob":
		return opGlob
	case "regex":
		return opRegex
	case "exists":
		return opExists
	case "any_of":
		return opAnyOf
	}
	return opInvalid
}

func (k opKind) String() string {
	switch k {
	case opEquals:
		return "equals"
	case opNotEquals:
		return "not_equals"
	case opContains:
		return "contains"
	case opStartsWith:
		return "starts_with"
	case opEndsWith:
		return "ends_with"
	case opGlob:
		return "glob"
	case opRegex:
		return "regex"
	case opExists:
		return "exists"
	case opAnyOf:
		return "any_of"
	}
	return "invalid"
}

// Limits that keep a configuration sane.
const (
	maxPatternLen = 1024
	// anyOfSetMin is where a hash set beats a linear scan for any_of.
	anyOfSetMin = 8
)

// condition is a compiled Condition.
type condition struct {
	path   ClaimPath
	op     opKind
	value  string
	values []string
	set    map[string]struct{} // any_of with many values
	re     *regexp.Regexp      // glob and regex
}

// outcome is the result of testing a condition, with what Explain needs.
type outcome struct {
	held      bool
	absent    bool
	notScalar bool
	list      bool   // the claim is a list
	at        int    // list index that decided the outcome, -1 if none
	elem      string // the scalar or deciding element, canonical form
}

// evaluate tests the condition against claims. On a list, positive
// operators hold if any element matches; not_equals holds if none equals.
func (c *condition) evaluate(claims map[string]any) outcome {
	v, ok := c.path.Lookup(claims)
	if !ok || !present(v) {
		return outcome{absent: true, at: -1}
	}
	if c.op == opExists {
		return outcome{held: true, at: -1}
	}
	negated := c.op == opNotEquals
	if n, isList := listLen(v); isList {
		for i := range n {
			s, ok := listElem(v, i)
			if ok && c.matches(s) {
				return outcome{held: !negated, list: true, at: i, elem: s}
			}
		}
		return outcome{held: negated, list: true, at: -1}
	}
	s, ok := scalarString(v)
	if !ok {
		return outcome{notScalar: true, at: -1}
	}
	return outcome{held: c.matches(s) != negated, at: -1, elem: s}
}

// matches is the positive test on one string; not_equals uses equality
// and evaluate inverts it.
func (c *condition) matches(s string) bool {
	switch c.op {
	case opEquals, opNotEquals:
		return s == c.value
	case opContains:
		return strings.Contains(s, c.value)
	case opStartsWith:
		return strings.HasPrefix(s, c.value)
	case opEndsWith:
		return strings.HasSuffix(s, c.value)
	case opGlob, opRegex:
		return c.re.MatchString(s)
	case opAnyOf:
		if c.set != nil {
			_, ok := c.set[s]
			return ok
		}
		for _, v := range c.values {
			if s == v {
				return true
			}
		}
	}
	return false
}

// describe renders an outcome for Explain, e.g.
// `groups[1]="admins" equals "admins"` or `claim "dept" absent`.
func (c *condition) describe(o outcome) string {
	name := c.path.String()
	switch {
	case o.absent:
		return fmt.Sprintf("claim %q absent", name)
	case c.op == opExists:
		return fmt.Sprintf("claim %q exists", name)
	case o.notScalar:
		return fmt.Sprintf("claim %q is not a string, number, bool or list", name)
	}
	operand := c.operand()
	if o.list && o.at < 0 {
		// No element decided: a positive test failed on every element, or
		// not_equals held because none equalled.
		verb := c.op.String()
		if c.op == opNotEquals {
			verb = "equals"
		}
		return fmt.Sprintf("%s: no element %s %s", name, verb, operand)
	}
	subject := fmt.Sprintf("%s=%q", name, clip(o.elem))
	if o.list {
		subject = fmt.Sprintf("%s[%d]=%q", name, o.at, clip(o.elem))
	}
	if o.held {
		return fmt.Sprintf("%s %s %s", subject, c.op, operand)
	}
	return fmt.Sprintf("%s fails %s %s", subject, c.op, operand)
}

// operand renders the condition's value(s) for Explain.
func (c *condition) operand() string {
	if c.op != opAnyOf {
		return fmt.Sprintf("%q", clip(c.value))
	}
	const shown = 5
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range c.values {
		if i == shown {
			fmt.Fprintf(&b, ", ... %d more", len(c.values)-shown)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", clip(v))
	}
	b.WriteByte(']')
	return b.String()
}

// clip shortens long values in traces, on a rune boundary.
func clip(s string) string {
	const maxShown = 128
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// compileCondition validates one Condition, adding every problem under
// path, and returns the compiled form (meaningful only without problems).
func compileCondition(spec Condition, path string, probs *problems) condition {
	c := condition{op: parseOp(spec.Op), value: spec.Value, values: spec.Values}
	if spec.Claim == "" {
		probs.add(path+".claim", "is required")
	} else if p, err := ParseClaimPath(spec.Claim); err != nil {
		probs.add(path+".claim", err.Error())
	} else {
		c.path = p
	}
	switch {
	case spec.Op == "":
		probs.add(path+".op", "is required (one of equals, not_equals, contains, starts_with, ends_with, glob, regex, exists, any_of)")
		return c
	case c.op == opInvalid:
		probs.add(path+".op", fmt.Sprintf("unknown operator %q (want one of equals, not_equals, contains, starts_with, ends_with, glob, regex, exists, any_of)", spec.Op))
		return c
	}
	if c.op != opAnyOf && len(spec.Values) > 0 {
		probs.add(path+".values", "only any_of takes values")
	}
	switch c.op {
	case opExists:
		if spec.Value != "" {
			probs.add(path+".value", "exists takes no value")
		}
		return c
	case opAnyOf:
		if spec.Value != "" {
			probs.add(path+".value", "any_of takes values, not value")
		}
		if len(spec.Values) == 0 {
			probs.add(path+".values", "any_of needs at least one value")
		}
		if len(spec.Values) >= anyOfSetMin {
			c.set = make(map[string]struct{}, len(spec.Values))
			for _, v := range spec.Values {
				c.set[v] = struct{}{}
			}
		}
		return c
	}
	if spec.Value == "" {
		probs.add(path+".value", "is required for "+spec.Op)
		return c
	}
	if c.op != opGlob && c.op != opRegex {
		return c
	}
	if len(spec.Value) > maxPatternLen {
		probs.add(path+".value", fmt.Sprintf("pattern longer than %d bytes", maxPatternLen))
		return c
	}
	expr := "^(?:" + spec.Value + ")$"
	if c.op == opGlob {
		var err error
		if expr, err = globToRegexp(spec.Value); err != nil {
			probs.add(path+".value", "invalid glob: "+err.Error())
			return c
		}
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		probs.add(path+".value", "invalid "+spec.Op+": "+err.Error())
		return c
	}
	c.re = re
	return c
}
