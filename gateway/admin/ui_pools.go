package admin

// The pool page: its settings and the list of its rules; the rule page,
// and deleting and moving rules from the pool page.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

// poolPage is the pool form and its rules.
type poolPage struct {
	page
	New                                                 bool
	ETag                                                string
	ID, Name, DisplayName, Mode, Resolution, NoMatch    string
	AuthenticatedRole, UnauthenticatedRole, RolesClaim  string
	PreferredRoleClaim, SessionNameClaim, PrincipalTags string
	TransitiveTagKeys, DurationSeconds                  string
	SAMLProviderARN                                     string
	OwnIssuer, AllowGuests, AllowClassicFlow            bool
	Checkboxes                                          string
	ProviderChoices                                     []choice
	Rules                                               []ruleRow
	IssuerURL                                           string
}

// ruleRow is one rule in the pool page's list.
type ruleRow struct {
	Index, Number    int
	Name, Role, Test string
	ETag             string
	First, Last      bool
	Error            string
}

// poolForm shows a pool in its form.
func poolForm(p config.Pool, providers []config.Provider) poolPage {
	v := poolPage{ID: p.ID, Name: p.Name, DisplayName: p.DisplayName, Mode: p.Mode, Resolution: nonEmpty(p.Resolution, rules.FirstMatch),
		NoMatch: nonEmpty(p.NoMatch, rules.Deny), AuthenticatedRole: p.AuthenticatedRole, UnauthenticatedRole: p.UnauthenticatedRole,
		RolesClaim: p.RolesClaim, PreferredRoleClaim: p.PreferredRoleClaim, SessionNameClaim: p.SessionNameClaim,
		PrincipalTags: pairsText(p.PrincipalTags), TransitiveTagKeys: strings.Join(p.TransitiveTagKeys, " "),
		OwnIssuer: p.OwnIssuer, AllowGuests: p.AllowGuests, SAMLProviderARN: p.SAMLProviderARN, AllowClassicFlow: p.AllowClassicFlow,
		Checkboxes: poolCheckboxes}
	if v.Mode == "" {
		v.Mode = config.ModeGatewayToken
	}
	if p.DurationSeconds != 0 {
		v.DurationSeconds = strconv.Itoa(p.DurationSeconds)
	}
	for _, pr := range providers {
		v.ProviderChoices = append(v.ProviderChoices, choice{Value: pr.ID, Label: pr.DisplayName, Selected: slices.Contains(p.Providers, pr.ID)})
	}
	for i, r := range p.Rules {
		v.Rules = append(v.Rules, ruleRow{Index: i, Number: i + 1, Name: ruleLabel(r, i), Role: r.Role, Test: ruleTest(r),
			ETag: ruleETag(p, i), First: i == 0, Last: i == len(p.Rules)-1})
	}
	return v
}

// ruleTest says in words what a rule tests.
func ruleTest(r rules.RuleSpec) string {
	var parts []string
	for _, c := range r.Match {
		switch c.Op {
		case "exists":
			parts = append(parts, fmt.Sprintf("%s exists", c.Claim))
		case "any_of":
			parts = append(parts, fmt.Sprintf("%s is any of %s", c.Claim, strings.Join(c.Values, ", ")))
		default:
			parts = append(parts, fmt.Sprintf("%s %s %q", c.Claim, strings.ReplaceAll(c.Op, "_", " "), c.Value))
		}
	}
	if r.CEL != "" {
		parts = append(parts, "CEL: "+r.CEL)
	}
	if len(parts) == 0 {
		return "everyone"
	}
	return strings.Join(parts, " and ")
}

func (s *Admin) uiPool(c *gin.Context) {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	key := c.Param("pool")
	var data poolPage
	if key == newKey {
		data = poolForm(config.Pool{Mode: config.ModeGatewayToken, DurationSeconds: config.DefaultDurationSeconds}, cur.m.Providers)
		data.New = true
	} else {
		i := core.FindPool(&cur.m, key)
		if i < 0 {
			s.kit.Fail(c, notFound("pool"))
			return
		}
		p := cur.m.Pools[i]
		data = poolForm(p, cur.m.Providers)
		data.ETag = poolETag(p)
		data.IssuerURL = s.fileWith(cur.m).IssuerURL(&p)
	}
	data.page = s.pageFor(c, "Pool "+nonEmpty(data.DisplayName, "new"), "home")
	s.kit.Render(c, http.StatusOK, "admin_pool", data, true)
}

// poolCheckboxes are the checkbox fields of the pool form (see
// providerCheckboxes); "providers" is the list of provider boxes.
const poolCheckboxes = "providers own_issuer allow_guests allow_classic_flow"

// readPool puts the pool form's settings onto p (the stored pool, or a new
// one); rules, and fields the form lacks, stay as they are.
func readPool(f *postedForm, p *config.Pool) {
	f.text("name", &p.Name)
	f.text("display_name", &p.DisplayName)
	if f.checkboxes["providers"] {
		p.Providers = f.c.PostFormArray("providers")
	}
	f.textKeepingDefault("mode", &p.Mode, config.ModeGatewayToken)
	f.textKeepingDefault("resolution", &p.Resolution, rules.FirstMatch)
	f.textKeepingDefault("no_match", &p.NoMatch, rules.Deny)
	f.text("authenticated_role", &p.AuthenticatedRole)
	f.text("unauthenticated_role", &p.UnauthenticatedRole)
	f.text("roles_claim", &p.RolesClaim)
	f.text("preferred_role_claim", &p.PreferredRoleClaim)
	f.text("session_name_claim", &p.SessionNameClaim)
	f.text("saml_provider_arn", &p.SAMLProviderARN)
	f.list("transitive_tag_keys", &p.TransitiveTagKeys)
	f.check("own_issuer", &p.OwnIssuer)
	f.check("allow_guests", &p.AllowGuests)
	f.check("allow_classic_flow", &p.AllowClassicFlow)
	if v, ok := f.c.GetPostForm("duration_seconds"); ok {
		p.DurationSeconds = 0
		if v = strings.TrimSpace(v); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				f.errs["duration_seconds"] = "must be a number of seconds"
			}
			p.DurationSeconds = n
		}
	}
	if v, ok := f.c.GetPostForm("principal_tags"); ok {
		tags, err := parsePairs(v)
		if err != nil {
			f.errs["principal_tags"] = err.Error()
		}
		p.PrincipalTags = tags
	}
}

func (s *Admin) uiSavePool(c *gin.Context) {
	key := c.Param("pool")
	isNew := key == newKey
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	// The form's settings go onto the stored pool; its rules (edited on
	// their own pages) and whatever the form does not show are kept.
	var settings config.Pool
	i := len(cur.m.Pools)
	if !isNew {
		if i = core.FindPool(&cur.m, key); i < 0 {
			s.kit.Fail(c, notFound("pool"))
			return
		}
		settings = core.CloneMappings(config.Mappings{Pools: cur.m.Pools[i : i+1]}).Pools[0]
	}
	form := newPostedForm(c)
	readPool(form, &settings)
	if isNew {
		settings.ID = strings.TrimSpace(c.PostForm("id"))
	}
	data := poolForm(settings, cur.m.Providers)
	data.page = s.pageFor(c, "Pool", "home")
	data.New, data.ETag = isNew, c.PostForm("etag")
	data.DurationSeconds, data.PrincipalTags = strings.TrimSpace(c.PostForm("duration_seconds")), c.PostForm("principal_tags")
	rerender := func(status int) { s.kit.Render(c, status, "admin_pool", data, true) }
	if len(form.errs) > 0 {
		data.FieldErrors, data.HasFieldErrors = form.errs, true
		rerender(http.StatusUnprocessableEntity)
		return
	}
	var ch change
	prefix := fmt.Sprintf("pools[%d].", i)
	if isNew {
		ch = createPool(settings)
	} else {
		ch = updatePool(key, ifMatch(nonEmpty(c.PostForm("etag"), "-")), func(p *config.Pool) *core.Error {
			readPool(newPostedForm(c), p) // onto the newest stored pool (its ETag is checked)
			return nil
		}, "settings changed")
	}
	res, pe := s.commit(c.Request.Context(), principalOf(c), ch)
	if pe != nil {
		s.refuseChange(c, pe, &data.page, prefix, rerender)
		return
	}
	redirectSaved(c, "/admin/pools/"+url.PathEscape(settings.Name), res.version)
}

func (s *Admin) uiDeletePool(c *gin.Context) {
	res, pe := s.commit(c.Request.Context(), principalOf(c), deletePool(c.Param("pool"), ifMatch(nonEmpty(c.PostForm("etag"), "-"))))
	if pe != nil {
		if pe.Code == CodePreconditionFailed {
			pe.Message = "Someone changed this pool since you opened it. Reload the pool and delete it again if you still want to."
		}
		s.kit.Fail(c, pe.Error)
		return
	}
	redirectSaved(c, "/admin", res.version)
}

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
		v.Conditions = append(v.Conditions, condRow{N: len(v.Conditions), Op: "equals"})
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
		cond := rules.Condition{Claim: claim, Op: form(fmt.Sprintf("op_%d", i))}
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
