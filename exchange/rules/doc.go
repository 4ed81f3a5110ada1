// Package rules maps verified identity claims to IAM roles, the way an
// Amazon Cognito identity pool's role mapping does, with more match types.
//
// A Spec is compiled once into an immutable Mapping (safe for concurrent
// use); Evaluate is the hot path and Explain is the same decision with a
// per-rule trace for the admin "simulate" view.
//
// # Claim paths
//
// A claim path is a dot-separated list of map keys: "email", "org.dept",
// "cognito:groups". A key that itself contains dots (or quotes) is written
// as a double-quoted segment, with \" and \\ as the only escapes:
//
//	"https://example.com/claims".team
//
// Lookups descend through map[string]any, map[string]string and
// map[string][]string; list indexing is not part of the syntax, because a
// condition on a list claim already applies to every element.
//
// # Condition semantics
//
//   - Claim values may be strings, bools, numbers (float64, ints,
//     json.Number) or lists of those; non-string scalars compare by their
//     canonical string form ("42", "1.5", "true").
//   - A missing claim, a null and an empty list are all "absent": every
//     operator, not_equals included, fails on an absent claim. A rule that
//     must hold for people without the claim says so in CEL.
//   - On a list claim a condition holds if ANY element satisfies it, except
//     not_equals, which holds if NO element equals the value ("not in the
//     admins group"). Nested maps inside lists are ignored.
//   - glob matches the whole string: * is any run of characters (slashes
//     included, unlike path.Match), ? is one character, [...] a class
//     ([!...] or [^...] negated), \ escapes. regex is RE2, anchored to the
//     whole string. contains is a substring test.
//   - CEL sees the claims as `claims` (map(string, dyn)) and must be a bool
//     expression; a runtime error (a missing key, say) means "no match".
//
// # Resolution
//
// When RolesClaim is set and the token carries at least one valid role ARN
// in it, those roles are the grants (token-based mapping, Cognito's
// "Use default role from token") and the rules are not consulted; otherwise
// the rules apply. Rules resolve by first_match (one grant) or all_matches
// (every matching rule in order, de-duplicated by role, first wins). When
// nothing matches, NoMatch=default_role grants DefaultRole, else the
// decision is a denial. The role named by PreferredRoleClaim is moved to the
// front when it is among the grants.
package rules
