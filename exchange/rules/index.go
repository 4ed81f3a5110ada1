package rules

import (
	"bytes"
	"regexp/syntax"
	"strings"
)

// The rule index narrows Evaluate to the rules that can match. Each rule
// is filed under one of its conditions, a necessary condition for the
// rule to hold: the claim value it must equal (equals, any_of), a prefix
// it must start with (starts_with, and glob or regex with a literal
// prefix), a suffix it must end with (ends_with), or else only the claim
// it needs present (every operator fails on an absent claim). Rules with
// no condition at all (CEL alone, or match-everyone) are always
// candidates. Evaluate looks each indexed claim up once, collects the
// candidate rules in a bit set and tests them in rule order, so first
// match and all matches decide exactly as the linear scan does.

// ruleSet is a bit set over rule positions; MaxRules bounds its size so
// that it lives on the stack.
type ruleSet [(MaxRules + 63) / 64]uint64

func (s *ruleSet) add(i int32) { s[i>>6] |= 1 << (uint(i) & 63) }

func (s *ruleSet) addAll(rules []int32) {
	for _, i := range rules {
		s.add(i)
	}
}

// ruleIndex is the compiled index of a Mapping's rules.
type ruleIndex struct {
	always ruleSet // rules filed under no claim
	words  int     // words of a ruleSet in use
	claims []claimIndex
}

// claimIndex files the rules whose chosen condition is on one claim path.
type claimIndex struct {
	path    ClaimPath
	equal   map[string][]int32
	prefix  trie
	suffix  trie // on reversed strings
	present []int32
}

// trie is a byte trie whose nodes carry the rules filed under the string
// spelled by the path to them.
type trie struct {
	nodes []trieNode
}

type trieNode struct {
	edges []byte  // next bytes, parallel to kids
	kids  []int32 // node indices
	rules []int32
}

func (t *trie) insert(key string, rule int32) {
	if len(t.nodes) == 0 {
		t.nodes = append(t.nodes, trieNode{})
	}
	n := int32(0)
	for i := 0; i < len(key); i++ {
		node := &t.nodes[n]
		if j := bytes.IndexByte(node.edges, key[i]); j >= 0 {
			n = node.kids[j]
			continue
		}
		t.nodes = append(t.nodes, trieNode{})
		next := int32(len(t.nodes) - 1)
		node = &t.nodes[n] // append may have moved it
		node.edges = append(node.edges, key[i])
		node.kids = append(node.kids, next)
		n = next
	}
	t.nodes[n].rules = append(t.nodes[n].rules, rule)
}

// collect adds the rules filed under every prefix of s (reversed: of
// every suffix of s).
func (t *trie) collect(s string, reversed bool, into *ruleSet) {
	if len(t.nodes) == 0 {
		return
	}
	n := int32(0)
	for i := 0; ; i++ {
		node := &t.nodes[n]
		into.addAll(node.rules)
		if i == len(s) {
			return
		}
		c := s[i]
		if reversed {
			c = s[len(s)-1-i]
		}
		j := bytes.IndexByte(node.edges, c)
		if j < 0 {
			return
		}
		n = node.kids[j]
	}
}

// indexKind ranks how a condition narrows the candidates, best first.
type indexKind uint8

const (
	byEqual indexKind = iota
	byPrefix
	bySuffix
	byPresence
	unindexed
)

// indexKey says how one condition can file its rule.
func (c *condition) indexKey() (indexKind, []string) {
	switch c.op {
	case opEquals:
		return byEqual, []string{c.value}
	case opAnyOf:
		return byEqual, c.values
	case opStartsWith:
		return byPrefix, []string{c.value}
	case opEndsWith:
		return bySuffix, []string{c.value}
	case opGlob, opRegex:
		// The pattern is anchored at the start, so a literal prefix is
		// one every match begins with.
		if c.re != nil {
			if p := anchoredLiteralPrefix(c.re.String()); p != "" {
				return byPrefix, []string{p}
			}
		}
	}
	return byPresence, nil
}

// buildIndex files every rule under its most selective condition. Among
// presence-only conditions it picks the claim the fewest rules test, a
// cheap guess at the rarest one.
func buildIndex(rules []rule) ruleIndex {
	var ix ruleIndex
	ix.words = (len(rules) + 63) / 64
	pathRules := map[string]int{}
	for i := range rules {
		seen := map[string]bool{}
		for j := range rules[i].conds {
			k := pathKey(rules[i].conds[j].path)
			if !seen[k] {
				seen[k] = true
				pathRules[k]++
			}
		}
	}
	byPath := map[string]int{}
	claim := func(p ClaimPath) *claimIndex {
		k := pathKey(p)
		if at, ok := byPath[k]; ok {
			return &ix.claims[at]
		}
		byPath[k] = len(ix.claims)
		ix.claims = append(ix.claims, claimIndex{path: p})
		return &ix.claims[len(ix.claims)-1]
	}
	for i := range rules {
		at := int32(i)
		best, bestKind, bestKeys := -1, unindexed, []string(nil)
		for j := range rules[i].conds {
			kind, keys := rules[i].conds[j].indexKey()
			better := kind < bestKind
			if kind == bestKind && kind == byPresence {
				better = pathRules[pathKey(rules[i].conds[j].path)] < pathRules[pathKey(rules[i].conds[best].path)]
			}
			if better {
				best, bestKind, bestKeys = j, kind, keys
			}
		}
		if best < 0 {
			ix.always.add(at)
			continue
		}
		ci := claim(rules[i].conds[best].path)
		switch bestKind {
		case byEqual:
			if ci.equal == nil {
				ci.equal = map[string][]int32{}
			}
			for _, v := range bestKeys {
				if l := ci.equal[v]; len(l) == 0 || l[len(l)-1] != at {
					ci.equal[v] = append(l, at)
				}
			}
		case byPrefix:
			ci.prefix.insert(bestKeys[0], at)
		case bySuffix:
			ci.suffix.insert(reverse(bestKeys[0]), at)
		case byPresence:
			ci.present = append(ci.present, at)
		}
	}
	return ix
}

// candidates returns the rules that may match claims.
func (ix *ruleIndex) candidates(claims map[string]any, into *ruleSet) {
	*into = ix.always
	for i := range ix.claims {
		ci := &ix.claims[i]
		v, ok := ci.path.Lookup(claims)
		if !ok || !present(v) {
			continue
		}
		into.addAll(ci.present)
		if n, isList := listLen(v); isList {
			for j := range n {
				if s, ok := listElem(v, j); ok {
					ci.byValue(s, into)
				}
			}
			continue
		}
		if s, ok := scalarString(v); ok {
			ci.byValue(s, into)
		}
	}
}

func (ci *claimIndex) byValue(s string, into *ruleSet) {
	if ci.equal != nil {
		into.addAll(ci.equal[s])
	}
	ci.prefix.collect(s, false, into)
	ci.suffix.collect(s, true, into)
}

// anchoredLiteralPrefix returns the literal text every match of expr
// starts with when expr is anchored at the start of the text, else "".
// It reads the parsed expression rather than trusting
// regexp.LiteralPrefix, which describes where a match starts, not the
// input.
func anchoredLiteralPrefix(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return ""
	}
	first := re.Sub[1]
	for {
		switch first.Op {
		case syntax.OpCapture:
			first = first.Sub[0]
			continue
		case syntax.OpConcat:
			first = first.Sub[0]
			continue
		case syntax.OpLiteral:
			if first.Flags&syntax.FoldCase != 0 {
				return ""
			}
			return string(first.Rune)
		}
		return ""
	}
}

// pathKey identifies a claim path by its keys, however it was quoted.
func pathKey(p ClaimPath) string { return strings.Join(p.keys, "\x00") }

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
