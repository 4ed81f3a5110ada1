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
	"fedgate/gateway/httpkit"
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
	items := []etagged{}
	for i, r := range p.Rules {
		items = append(items, etagged{ETag: ruleETag(*p, i), Data: r})
	}
	c.Header("ETag", poolETag(*p))
	c.JSON(http.StatusOK, gin.H{"pool_etag": poolETag(*p), "rules": items})
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
	var r rules.RuleSpec
	if e := httpkit.DecodeJSON(c, &r); e != nil {
		s.kit.Fail(c, e)
		return
	}
	pos := -1
	if v := c.Query("position"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "position must be a rule index (0 = first)."))
			return
		}
		pos = n
	}
	at := -1
	res, pe := s.commit(c.Request.Context(), principalOf(c), addRule(c.Param("pool"), r, pos, &at))
	if pe != nil {
		s.failChange(c, pe)
		return
	}
	p := res.m.Pools[core.FindPool(&res.m, c.Param("pool"))]
	c.Header("Location", fmt.Sprintf("/admin/api/v1/pools/%s/rules/%d", url.PathEscape(p.Name), at))
	written(c, http.StatusCreated, res, ruleETag(p, at), p.Rules[at])
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
	var r rules.RuleSpec
	im, ok := s.readWrite(c, &r)
	if !ok {
		return
	}
	idx, err := strconv.Atoi(c.Param("index"))
	if err != nil || idx < 0 {
		s.kit.Fail(c, core.Errorf(http.StatusNotFound, core.CodeNotFound, "The pool has no rule at that position."))
		return
	}
	res, pe := s.commit(c.Request.Context(), principalOf(c), editRule(c.Param("pool"), idx, im, &r))
	if pe != nil {
		s.failChange(c, pe)
		return
	}
	p := res.m.Pools[core.FindPool(&res.m, c.Param("pool"))]
	written(c, http.StatusOK, res, ruleETag(p, idx), p.Rules[idx])
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
	idx, err := strconv.Atoi(c.Param("index"))
	if err != nil || idx < 0 {
		s.kit.Fail(c, core.Errorf(http.StatusNotFound, core.CodeNotFound, "The pool has no rule at that position."))
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
	var b reorderBody
	im, ok := s.readWrite(c, &b)
	if !ok {
		return
	}
	res, pe := s.commit(c.Request.Context(), principalOf(c), reorderRules(c.Param("pool"), im, b.Order))
	if pe != nil {
		s.failChange(c, pe)
		return
	}
	p := res.m.Pools[core.FindPool(&res.m, c.Param("pool"))]
	items := []etagged{}
	for i, r := range p.Rules {
		items = append(items, etagged{ETag: ruleETag(p, i), Data: r})
	}
	written(c, http.StatusOK, res, poolETag(p), gin.H{"pool_etag": poolETag(p), "rules": items})
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
