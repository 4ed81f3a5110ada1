package admin

import (
	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// The rule page: create, edit, delete and move a pool's rules.

// rulePage is the rule form.
type rulePage struct {
	page
	New                                             bool
	Pool, PoolDisplay, ETag                         string
	Index, Number                                   int
	Name, Role, CEL, DurationSeconds, SessionPolicy string
	Tags                                            string
	Conditions                                      []condRow
	Ops                                             []string
}

// condRow is one condition row of the rule form.
type condRow struct {
	N                int
	Claim, Op, Value string
	Error            string
}

// ruleOps are the operators a condition row offers, in the order shown.
func ruleOps() []string {
	return []string{"equals", "not_equals", "contains", "starts_with", "ends_with", "glob", "regex", "exists", "any_of"}
}

// extraConditionRows are the empty rows a rule form offers for new conditions.
const extraConditionRows = 3

// ruleForm shows a rule in its form, with empty rows to add conditions.
func ruleForm(r rules.RuleSpec) rulePage {
	v := rulePage{Name: r.Name, Role: r.Role, CEL: r.CEL, SessionPolicy: r.SessionPolicy, Tags: pairsText(r.Tags), Ops: ruleOps()}
	if r.DurationSeconds != 0 {
		v.DurationSeconds = strconv.Itoa(r.DurationSeconds)
	}
	for i, c := range r.Match {
		val := c.Value
		if c.Op == "any_of" {
			val = strings.Join(c.Values, ", ")
		}
		v.Conditions = append(v.Conditions, condRow{N: i, Claim: c.Claim, Op: c.Op, Value: val})
	}
	for i := 0; i < extraConditionRows; i++ {
		v.Conditions = append(v.Conditions, condRow{N: len(v.Conditions)}) // empty: no test chosen
	}
	return v
}

// maxConditionRows bounds the rows read from one form.
const maxConditionRows = 64

// ruleFromForm reads a rule form; rows without a claim are skipped.
func ruleFromForm(c *gin.Context) (rules.RuleSpec, map[string]string) {
	form := func(f string) string { return strings.TrimSpace(c.PostForm(f)) }
	errs := map[string]string{}
	r := rules.RuleSpec{Name: form("name"), Role: form("role"), CEL: form("cel"), SessionPolicy: form("session_policy")}
	if v := form("duration_seconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs["duration_seconds"] = "must be a number of seconds"
		}
		r.DurationSeconds = n
	}
	tags, err := parsePairs(c.PostForm("tags"))
	if err != nil {
		errs["tags"] = err.Error()
	}
	r.Tags = tags
	for i := 0; i < maxConditionRows; i++ {
		claim := form(fmt.Sprintf("claim_%d", i))
		if claim == "" {
			continue
		}
		// A row whose test was left unchosen tests equality, the first choice.
		cond := rules.Condition{Claim: claim, Op: nonEmpty(form(fmt.Sprintf("op_%d", i)), "equals")}
		val := form(fmt.Sprintf("value_%d", i))
		switch cond.Op {
		case "any_of":
			for _, v := range strings.Split(val, ",") {
				if v = strings.TrimSpace(v); v != "" {
					cond.Values = append(cond.Values, v)
				}
			}
		case "exists":
		default:
			cond.Value = val
		}
		r.Match = append(r.Match, cond)
	}
	return r, errs
}

// pagePool is the pool named in the path, in the latest document, and its
// index there; false when it answered a refusal.
func (s *Admin) pagePool(c *gin.Context) (int, config.Pool, bool) {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return 0, config.Pool{}, false
	}
	pi := core.FindPool(&cur.m, c.Param("pool"))
	if pi < 0 {
		s.kit.Fail(c, notFound("pool"))
		return 0, config.Pool{}, false
	}
	return pi, cur.m.Pools[pi], true
}

func (s *Admin) uiRule(c *gin.Context) {
	_, p, ok := s.pagePool(c)
	if !ok {
		return
	}
	var data rulePage
	if c.Param("index") == newKey {
		data = ruleForm(rules.RuleSpec{})
		data.New, data.Index = true, len(p.Rules)
	} else {
		i, e := ruleIndex(c, &p)
		if e != nil {
			s.kit.Fail(c, e)
			return
		}
		data = ruleForm(p.Rules[i])
		data.Index, data.ETag = i, ruleETag(p, i)
	}
	data.Number = data.Index + 1
	data.Pool, data.PoolDisplay = p.Name, p.DisplayName
	data.page = s.pageFor(c, "Rule", "home")
	s.kit.Render(c, http.StatusOK, "admin_rule", data, true)
}

func (s *Admin) uiSaveRule(c *gin.Context) {
	pi, pool, ok := s.pagePool(c)
	if !ok {
		return
	}
	r, fieldErrs := ruleFromForm(c)
	isNew := c.Param("index") == newKey
	data := ruleForm(r)
	data.page = s.pageFor(c, "Rule", "home")
	data.New, data.ETag, data.Pool, data.PoolDisplay = isNew, c.PostForm("etag"), pool.Name, pool.DisplayName
	idx := len(pool.Rules)
	if !isNew {
		n, err := strconv.Atoi(c.Param("index"))
		if err != nil || n < 0 {
			s.kit.Fail(c, core.Errorf(http.StatusNotFound, core.CodeNotFound, "The pool has no rule at that position."))
			return
		}
		idx = n
	}
	data.Index, data.Number = idx, idx+1
	rerender := func(status int) {
		for i := range data.Conditions {
			data.Conditions[i].Error = data.FieldErrors[fmt.Sprintf("match[%d]", i)]
		}
		s.kit.Render(c, status, "admin_rule", data, true)
	}
	if len(fieldErrs) > 0 {
		data.FieldErrors, data.HasFieldErrors = fieldErrs, true
		rerender(http.StatusUnprocessableEntity)
		return
	}
	var ch change
	if isNew {
		at := 0
		ch = addRule(pool.Name, r, -1, &at)
	} else {
		ch = editRule(pool.Name, idx, ifMatch(nonEmpty(c.PostForm("etag"), "-")), &r)
	}
	ch.pool = pool.ID
	res, pe := s.commit(c.Request.Context(), principalOf(c), ch)
	if pe != nil {
		s.refuseChange(c, pe, &data.page, fmt.Sprintf("pools[%d].rules[%d].", pi, idx), rerender)
		return
	}
	redirectSaved(c, "/admin/pools/"+url.PathEscape(pool.Name), res.version)
}

func (s *Admin) uiDeleteRule(c *gin.Context) {
	idx, err := strconv.Atoi(c.Param("index"))
	if err != nil || idx < 0 {
		s.kit.Fail(c, core.Errorf(http.StatusNotFound, core.CodeNotFound, "The pool has no rule at that position."))
		return
	}
	pool := c.Param("pool")
	res, pe := s.commit(c.Request.Context(), principalOf(c), editRule(pool, idx, ifMatch(nonEmpty(c.PostForm("etag"), "-")), nil))
	if pe != nil {
		s.failRuleAction(c, pe)
		return
	}
	redirectSaved(c, "/admin/pools/"+url.PathEscape(pool), res.version)
}

// failRuleAction answers a refused delete or move of a rule.
func (s *Admin) failRuleAction(c *gin.Context, pe *problemsError) {
	switch {
	case pe.Code == CodePreconditionFailed:
		pe.Message = "Someone changed this pool's rules since you opened the page. Reload it and try again."
	case len(pe.Problems) > 0:
		pe.Message = "Not saved: " + problemList(pe.Problems)
	}
	s.kit.Fail(c, pe.Error)
}

// uiMoveRule moves a rule one place up or down, under the pool's ETag.
func (s *Admin) uiMoveRule(c *gin.Context) {
	idx, err := strconv.Atoi(c.Param("index"))
	if err != nil || idx < 0 {
		s.kit.Fail(c, core.Errorf(http.StatusNotFound, core.CodeNotFound, "The pool has no rule at that position."))
		return
	}
	to := idx - 1
	if c.PostForm("direction") == "down" {
		to = idx + 1
	}
	pool := c.Param("pool")
	ch := updatePool(pool, ifMatch(nonEmpty(c.PostForm("etag"), "-")), func(p *config.Pool) *core.Error {
		if idx >= len(p.Rules) || to < 0 || to >= len(p.Rules) {
			return core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "That rule cannot move further.")
		}
		p.Rules[idx], p.Rules[to] = p.Rules[to], p.Rules[idx]
		return nil
	}, fmt.Sprintf("rule #%d moved to #%d", idx+1, to+1))
	res, pe := s.commit(c.Request.Context(), principalOf(c), ch)
	if pe != nil {
		s.failRuleAction(c, pe)
		return
	}
	redirectSaved(c, "/admin/pools/"+url.PathEscape(pool), res.version)
}
