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
	"time"

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
	SAMLProviderARN, GuestTTL, AccountAliases           string
	DeveloperProviderName                               string
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
		PrincipalTags: pairsText(p.PrincipalTags), AccountAliases: pairsText(p.AccountAliases), TransitiveTagKeys: strings.Join(p.TransitiveTagKeys, " "),
		OwnIssuer: p.OwnIssuer, AllowGuests: p.AllowGuests, SAMLProviderARN: p.SAMLProviderARN, AllowClassicFlow: p.AllowClassicFlow,
		DeveloperProviderName: p.DeveloperProviderName, Checkboxes: poolCheckboxes}
	if v.Mode == "" {
		v.Mode = config.ModeGatewayToken
	}
	if p.DurationSeconds != 0 {
		v.DurationSeconds = strconv.Itoa(p.DurationSeconds)
	}
	if p.GuestTTL != 0 {
		v.GuestTTL = p.GuestTTL.D().String()
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
	f.text("developer_provider_name", &p.DeveloperProviderName)
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
	if v, ok := f.c.GetPostForm("guest_ttl"); ok {
		p.GuestTTL = 0
		if v = strings.TrimSpace(v); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				f.errs["guest_ttl"] = "must be a duration such as 720h"
			}
			p.GuestTTL = config.Duration(d)
		}
	}
	if v, ok := f.c.GetPostForm("account_aliases"); ok {
		aliases, err := parsePairs(v)
		if err != nil {
			f.errs["account_aliases"] = err.Error()
		}
		p.AccountAliases = aliases
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
	data.AccountAliases = c.PostForm("account_aliases")
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
