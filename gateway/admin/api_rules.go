package admin

// A pool's rules through the API. Each rule has an ETag of its own (its
// pool, position and content), so edits of different rules do not
// conflict; a reorder is checked against the pool's ETag.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

// poolForRead is the pool named in the path, in the latest document.
func (s *Admin) poolForRead(c *gin.Context) (*config.Pool, bool) {
	cur, ok := s.latestForRead(c)
	if !ok {
		return nil, false
	}
	i := core.FindPool(&cur.m, c.Param("pool"))
	if i < 0 {
		s.kit.Fail(c, notFound("pool"))
		return nil, false
	}
	return &cur.m.Pools[i], true
}

func ruleIndex(c *gin.Context, p *config.Pool) (int, *core.Error) {
	i, err := strconv.Atoi(c.Param("index"))
	if err != nil || i < 0 || i >= len(p.Rules) {
		return 0, core.Errorf(http.StatusNotFound, core.CodeNotFound, "The pool has no rule at that position.")
	}
	return i, nil
}

func (s *Admin) apiListRules(c *gin.Context) {
	p, ok := s.poolForRead(c)
	if !ok {
		return
	}
	c.Header("ETag", poolETag(*p))
	c.JSON(http.StatusOK, rulesList(*p))
}

// rulesList is a pool's rules, each with its ETag, and the pool's ETag a
// reorder must send.
func rulesList(p config.Pool) gin.H {
	items := []etagged{}
	for i, r := range p.Rules {
		items = append(items, etagged{ETag: ruleETag(p, i), Data: r})
	}
	return gin.H{"pool_etag": poolETag(p), "rules": items}
}

func (s *Admin) apiGetRule(c *gin.Context) {
	p, ok := s.poolForRead(c)
	if !ok {
		return
	}
	i, e := ruleIndex(c, p)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	c.Header("ETag", ruleETag(*p, i))
	c.JSON(http.StatusOK, p.Rules[i])
}

func (s *Admin) apiCreateRule(c *gin.Context) {
	at := -1
	writeWith(s, c, http.StatusCreated, func(r *rules.RuleSpec, _ ifMatch) (change, *core.Error) {
		pos := -1
		if v := c.Query("position"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return change{}, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "position must be a rule index (0 = first).")
			}
			pos = n
		}
		return addRule(c.Param("pool"), *r, pos, &at), nil
	}, func(_ *rules.RuleSpec, res *commitResult) reply {
		r := ruleReply(c, res, at)
		r.location = fmt.Sprintf("/admin/api/v1/pools/%s/rules/%d", url.PathEscape(res.m.Pools[core.FindPool(&res.m, c.Param("pool"))].Name), at)
		return r
	})
}

// ruleReply answers with the path's pool's rule at i as committed.
func ruleReply(c *gin.Context, res *commitResult, i int) reply {
	p := res.m.Pools[core.FindPool(&res.m, c.Param("pool"))]
	return reply{etag: ruleETag(p, i), body: p.Rules[i]}
}

// ruleIndexParam is the path's rule index; whether the pool has a rule
// there is for the change to check.
func ruleIndexParam(c *gin.Context) (int, *core.Error) {
	idx, err := strconv.Atoi(c.Param("index"))
	if err != nil || idx < 0 {
		return 0, core.Errorf(http.StatusNotFound, core.CodeNotFound, "The pool has no rule at that position.")
	}
	return idx, nil
}

// addRule inserts r at pos (-1 or past the end: last); at receives where.
func addRule(pool string, r rules.RuleSpec, pos int, at *int) change {
	ch := updatePool(pool, "", func(p *config.Pool) *core.Error {
		if pos < 0 || pos > len(p.Rules) {
			pos = len(p.Rules)
		}
		p.Rules = slices.Insert(p.Rules, pos, r)
		*at = pos
		return nil
	}, fmt.Sprintf("rule %q added", ruleLabel(r, -1)))
	return ch
}

func ruleLabel(r rules.RuleSpec, i int) string {
	if r.Name != "" {
		return r.Name
	}
	if i < 0 {
		return "unnamed"
	}
	return fmt.Sprintf("#%d", i+1)
}

func (s *Admin) apiPutRule(c *gin.Context) {
	var idx int
	writeWith(s, c, http.StatusOK, func(r *rules.RuleSpec, im ifMatch) (change, *core.Error) {
		var e *core.Error
		if idx, e = ruleIndexParam(c); e != nil {
			return change{}, e
		}
		return editRule(c.Param("pool"), idx, im, r), nil
	}, func(_ *rules.RuleSpec, res *commitResult) reply {
		return ruleReply(c, res, idx)
	})
}

// editRule replaces (r != nil) or deletes (r == nil) the rule at idx,
// under the rule's own ETag.
func editRule(pool string, idx int, im ifMatch, r *rules.RuleSpec) change {
	what := fmt.Sprintf("rule #%d changed", idx+1)
	if r == nil {
		what = fmt.Sprintf("rule #%d deleted", idx+1)
	}
	ch := updatePool(pool, "", func(p *config.Pool) *core.Error {
		if idx >= len(p.Rules) {
			return core.Errorf(http.StatusNotFound, core.CodeNotFound, "The pool has no rule at that position.")
		}
		if e := im.check(ruleETag(*p, idx)); e != nil {
			return e
		}
		if r == nil {
			p.Rules = slices.Delete(p.Rules, idx, idx+1)
		} else {
			p.Rules[idx] = *r
		}
		return nil
	}, what)
	return ch
}

func (s *Admin) apiDeleteRule(c *gin.Context) {
	idx, e := ruleIndexParam(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.deleteWith(c, func(im ifMatch) change { return editRule(c.Param("pool"), idx, im, nil) })
}

// reorderBody is the body of PUT /pools/{pool}/rules: the current rule
// indexes in their new order.
type reorderBody struct {
	Order []int `json:"order"`
}

func (s *Admin) apiReorderRules(c *gin.Context) {
	writeWith(s, c, http.StatusOK, func(b *reorderBody, im ifMatch) (change, *core.Error) {
		return reorderRules(c.Param("pool"), im, b.Order), nil
	}, func(_ *reorderBody, res *commitResult) reply {
		p := res.m.Pools[core.FindPool(&res.m, c.Param("pool"))]
		return reply{etag: poolETag(p), body: rulesList(p)}
	})
}

func reorderRules(pool string, im ifMatch, order []int) change {
	return updatePool(pool, im, func(p *config.Pool) *core.Error {
		if !isPermutation(order, len(p.Rules)) {
			return core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "order must list every current rule index (0..%d) exactly once.", len(p.Rules)-1)
		}
		next := make([]rules.RuleSpec, len(order))
		for to, from := range order {
			next[to] = p.Rules[from]
		}
		p.Rules = next
		return nil
	}, "rules reordered")
}

func isPermutation(order []int, n int) bool {
	if len(order) != n {
		return false
	}
	seen := make([]bool, n)
	for _, i := range order {
		if i < 0 || i >= n || seen[i] {
			return false
		}
		seen[i] = true
	}
	return true
}
