package rules

import (
	"fmt"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/interpreter"
)

const (
	// maxCELLen bounds rule expressions; real ones are a line or two.
	maxCELLen = 4096
	// celCostLimit stops runaway expressions (comprehensions over huge
	// claim lists) at evaluation time; ordinary rules cost well under 1000.
	celCostLimit = 100_000
)

// celCompiler builds the CEL environment once per Compile, and only when
// some rule uses CEL.
type celCompiler struct {
	env *cel.Env
	err error
}

func (c *celCompiler) compile(expr string) (cel.Program, error) {
	if c.env == nil && c.err == nil {
		c.env, c.err = cel.NewEnv(
			cel.Variable("claims", cel.MapType(cel.StringType, cel.DynType)),
			cel.CrossTypeNumericComparisons(true),
		)
	}
	if c.err != nil {
		return nil, fmt.Errorf("CEL environment: %v", c.err)
	}
	if utf8.RuneCountInString(expr) > maxCELLen {
		return nil, fmt.Errorf("longer than %d characters", maxCELLen)
	}
	ast, issues := c.env.Compile(expr)
	if issues != nil && issues.Err() != nil {
		return nil, issues.Err()
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("must be a bool expression, not %s (compare dyn claims explicitly, e.g. claims.admin == true)", ast.OutputType())
	}
	return c.env.Program(ast, cel.CostLimit(celCostLimit), cel.EvalOptions(cel.OptOptimize))
}

// claimsActivation exposes the claims to CEL as the variable `claims`
// without building a map per evaluation.
type claimsActivation struct{ claims map[string]any }

func (a *claimsActivation) ResolveName(name string) (any, bool) {
	if name == "claims" {
		return a.claims, true
	}
	return nil, false
}

func (a *claimsActivation) Parent() interpreter.Activation { return nil }

// evalCEL runs a rule's expression; any runtime error (a missing key, a
// type mismatch, the cost limit) means the rule does not match.
func evalCEL(prg cel.Program, act *claimsActivation) (bool, error) {
	out, _, err := prg.Eval(act)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("result is %s, not bool", out.Type())
	}
	return b, nil
}
