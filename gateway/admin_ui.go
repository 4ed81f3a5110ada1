package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/signin"
	"fedgate/gateway/store"
)

// newKey addresses the "create" form of a collection; it cannot collide
// with an id or name (those start with a letter or digit).
const newKey = "_new"

// adminPage is what every admin page sees.
type adminPage struct {
	httpkit.Page
	Who            string
	Role           string
	CSRF           string
	CanEdit        bool
	CanOwn         bool
	Nav            string
	Flash          string
	Conflict       string
	Problems       []config.Problem // problems not shown next to a field
	FieldErrors    map[string]string
	HasFieldErrors bool
}

func (s *Server) adminPageFor(c *gin.Context, title, nav string) adminPage {
	a := adminFrom(c)
	p := adminPage{Page: httpkit.Page{Title: title + " · admin", RequestID: httpkit.RequestID(c)}, Nav: nav, FieldErrors: map[string]string{}}
	if a != nil {
		p.Who, p.Role, p.CSRF = a.Display, a.Role, a.CSRF
		p.CanEdit, p.CanOwn = a.can(config.AdminEditor), a.can(config.AdminOwner)
	}
	if v := c.Query("saved"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			p.Flash = fmt.Sprintf("Saved as version %d. It is live now.", n)
		}
	}
	return p
}

// placeProblems puts each problem under prefix next to its field (the
// first path segment after the prefix) and keeps the rest for the top.
func (p *adminPage) placeProblems(problems config.Problems, prefix string) {
	for _, pr := range problems {
		rest, ok := strings.CutPrefix(pr.Path, prefix)
		if !ok || prefix == "" || rest == "" {
			p.Problems = append(p.Problems, pr)
			continue
		}
		key := rest
		if i := strings.IndexAny(rest, ".["); i > 0 {
			key = rest[:i]
			if rest[i] == '[' {
				if j := strings.IndexByte(rest, ']'); j > i {
					key = rest[:j+1]
				}
			}
		}
		if prev := p.FieldErrors[key]; prev != "" {
			p.FieldErrors[key] = prev + "; " + pr.Message
		} else {
			p.FieldErrors[key] = pr.Message
		}
		p.HasFieldErrors = true
	}
}

// refuseChange re-renders a form after a refused change, or fails.
func (s *Server) refuseChange(c *gin.Context, pe *problemsError, pg *adminPage, prefix string, rerender func(status int)) {
	switch {
	case len(pe.Problems) > 0:
		pg.placeProblems(pe.Problems, prefix)
		rerender(http.StatusUnprocessableEntity)
	case pe.Code == CodePreconditionFailed || pe.Code == CodePreconditionRequired:
		pg.Conflict = "Someone else saved a change to this since you opened the page. Your edits are below but were not saved: reload the page to see the current version, then reapply them."
		core.LogFrom(c.Request.Context(), s.log).Info("admin edit conflict", "path", c.Request.URL.Path)
		rerender(http.StatusPreconditionFailed)
	default:
		s.kit.Fail(c, pe.Error)
	}
}

func redirectSaved(c *gin.Context, to string, version int64) {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	c.Redirect(http.StatusSeeOther, to+sep+"saved="+strconv.FormatInt(version, 10))
}

// --- sign-in ---

type adminSignInPage struct {
	httpkit.Page
	Providers []signin.ProviderLink
	Error     string
}

func (s *Server) renderAdminSignIn(c *gin.Context, status int, msg string) {
	data := adminSignInPage{Page: httpkit.Page{Title: "Admin sign-in", RequestID: httpkit.RequestID(c)}, Error: msg}
	snap := s.core.Snapshot()
	for _, id := range s.cfg.Admin.Providers {
		if lp := snap.Providers[id]; lp != nil {
			data.Providers = append(data.Providers, signin.ProviderLink{DisplayName: lp.DisplayName(), URL: "/admin/login/" + url.PathEscape(id), Demo: lp.Cfg.Type == config.ProviderStatic})
		}
	}
	s.kit.Render(c, status, "admin_signin", data, true)
}

type adminPasswordPage struct {
	httpkit.Page
	Provider, Action, State, Error, Username string
}

func (s *Server) renderAdminPassword(c *gin.Context, status int, prov *core.Provider, state, msg, username string) {
	s.kit.Render(c, status, "admin_password", adminPasswordPage{
		Page:     httpkit.Page{Title: "Admin sign-in", RequestID: httpkit.RequestID(c)},
		Provider: prov.DisplayName(), Action: "/admin/login/" + url.PathEscape(prov.Cfg.ID), State: state, Error: msg, Username: username,
	}, true)
}

// --- home ---

type adminHomePage struct {
	adminPage
	Version   int64
	Pools     []adminPoolRow
	Providers []adminProviderRow
	Recent    []versionView
}

type adminPoolRow struct {
	Name, DisplayName, ID, Mode, Resolution, Providers string
	Rules                                              int
}

type adminProviderRow struct{ ID, Type, DisplayName, Issuer string }

func (s *Server) uiAdminHome(c *gin.Context) {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	data := adminHomePage{adminPage: s.adminPageFor(c, "Mappings", "home"), Version: cur.version}
	for _, p := range cur.m.Pools {
		data.Pools = append(data.Pools, adminPoolRow{Name: p.Name, DisplayName: p.DisplayName, ID: p.ID, Mode: p.Mode,
			Resolution: nonEmpty(p.Resolution, rules.FirstMatch), Providers: strings.Join(p.Providers, ", "), Rules: len(p.Rules)})
	}
	for _, p := range cur.m.Providers {
		data.Providers = append(data.Providers, adminProviderRow{ID: p.ID, Type: p.Type, DisplayName: p.DisplayName, Issuer: p.Issuer})
	}
	if vs, err := s.store.ListConfigs(c.Request.Context(), 0, 5); err == nil {
		for _, v := range vs {
			data.Recent = append(data.Recent, viewOf(v))
		}
	}
	s.kit.Render(c, http.StatusOK, "admin_home", data, true)
}

// --- providers ---

type adminProviderPage struct {
	adminPage
	New                                                  bool
	ETag                                                 string
	ID, Type, DisplayName, Issuer, ClientID              string
	HasSecret                                            bool
	Scopes, AllowedAlgorithms, ExtraAudiences, ClockSkew string
	UserInfo                                             bool
	Users                                                []string
	UsedBy                                               []string
	Placeholder                                          string
	// saml
	IdPMetadataURL, IdPMetadata, EntityID, ACSURL string
	SPCertificate, MetadataRefresh, NameIDFormat  string
	HasSPKey, AllowIdPInitiated                   bool
	DefaultEntityID, DefaultACSURL                string
	// AdminSignIn: admins sign in with this provider, so only an owner
	// may change or delete it (Locked for everyone else).
	AdminSignIn, Locked bool
	Checkboxes          string
}

// providerCheckboxes are the checkbox fields of the provider form; the form
// lists them in a hidden "checkboxes" field, since an unchecked box sends
// nothing.
const providerCheckboxes = "userinfo allow_idp_initiated"

func providerForm(p config.Provider) adminProviderPage {
	v := adminProviderPage{ID: p.ID, Type: p.Type, DisplayName: p.DisplayName, Issuer: p.Issuer, ClientID: p.ClientID,
		HasSecret: p.ClientSecret != "", Scopes: strings.Join(p.Scopes, " "), AllowedAlgorithms: strings.Join(p.AllowedAlgorithms, " "),
		ExtraAudiences: strings.Join(p.ExtraAudiences, " "), UserInfo: p.UserInfo, Placeholder: core.SecretPlaceholder,
		IdPMetadataURL: p.IdPMetadataURL, IdPMetadata: p.IdPMetadata, EntityID: p.EntityID, ACSURL: p.ACSURL,
		SPCertificate: p.SPCertificate, NameIDFormat: p.NameIDFormat, HasSPKey: p.SPKey != "", AllowIdPInitiated: p.AllowIdPInitiated,
		Checkboxes: providerCheckboxes}
	if p.ClockSkew != 0 {
		v.ClockSkew = p.ClockSkew.D().String()
	}
	if p.MetadataRefresh != 0 {
		v.MetadataRefresh = p.MetadataRefresh.D().String()
	}
	for _, u := range p.Users {
		v.Users = append(v.Users, u.Username)
	}
	return v
}

// adminForm reads a posted admin form: only the fields it carries change
// what was stored (a field the page does not show stays as it is).
type adminForm struct {
	c          *gin.Context
	checkboxes map[string]bool
	errs       map[string]string
}

func newAdminForm(c *gin.Context) *adminForm {
	f := &adminForm{c: c, checkboxes: map[string]bool{}, errs: map[string]string{}}
	for _, n := range words(c.PostForm("checkboxes")) {
		f.checkboxes[n] = true
	}
	return f
}

// text sets *dst to the trimmed field when the form has it.
func (f *adminForm) text(name string, dst *string) {
	if v, ok := f.c.GetPostForm(name); ok {
		*dst = strings.TrimSpace(v)
	}
}

// textKeepingDefault is text for a field the page shows with def when
// nothing is stored: sending def back keeps "nothing stored".
func (f *adminForm) textKeepingDefault(name string, dst *string, def string) {
	if v, ok := f.c.GetPostForm(name); ok {
		if v = strings.TrimSpace(v); v != def || *dst != "" {
			*dst = v
		}
	}
}

// block sets *dst from a textarea (XML, PEM) when the form has it: line
// ends as the browser sent them become \n, nothing else changes.
func (f *adminForm) block(name string, dst *string) {
	if v, ok := f.c.GetPostForm(name); ok {
		if v = strings.ReplaceAll(v, "\r\n", "\n"); strings.TrimSpace(v) == "" {
			v = ""
		}
		*dst = v
	}
}

// list sets *dst to the field's words (nil for none) when the form has it.
func (f *adminForm) list(name string, dst *[]string) {
	if v, ok := f.c.GetPostForm(name); ok {
		*dst = nil
		if w := words(v); len(w) > 0 {
			*dst = w
		}
	}
}

// check sets *dst from a checkbox the form lists in "checkboxes".
func (f *adminForm) check(name string, dst *bool) {
	if f.checkboxes[name] {
		*dst = f.c.PostForm(name) == "on"
	}
}

// duration sets *dst from a duration field ("" = none), or records a problem.
func (f *adminForm) duration(name string, dst *config.Duration) {
	v, ok := f.c.GetPostForm(name)
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
func (f *adminForm) secret(name string, dst *string) {
	if v := f.c.PostForm(name); strings.TrimSpace(v) != "" {
		*dst = strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n"))
		return
	}
	*dst = core.SecretPlaceholder
}

// readProvider puts the provider form's fields onto p (the stored provider,
// or a new one); static users and fields the form lacks stay as they are.
func readProvider(f *adminForm, p *config.Provider) {
	f.text("type", &p.Type)
	f.text("display_name", &p.DisplayName)
	f.text("issuer", &p.Issuer)
	f.text("client_id", &p.ClientID)
	f.secret("client_secret", &p.ClientSecret)
	f.list("scopes", &p.Scopes)
	f.list("allowed_algorithms", &p.AllowedAlgorithms)
	f.list("extra_audiences", &p.ExtraAudiences)
	f.duration("clock_skew", &p.ClockSkew)
	f.check("userinfo", &p.UserInfo)
	f.text("idp_metadata_url", &p.IdPMetadataURL)
	f.block("idp_metadata", &p.IdPMetadata)
	f.text("entity_id", &p.EntityID)
	f.text("acs_url", &p.ACSURL)
	f.block("sp_certificate", &p.SPCertificate)
	f.secret("sp_key", &p.SPKey)
	f.check("allow_idp_initiated", &p.AllowIdPInitiated)
	f.duration("metadata_refresh", &p.MetadataRefresh)
	f.text("name_id_format", &p.NameIDFormat)
}

func (s *Server) uiProvider(c *gin.Context) {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	id := c.Param("id")
	var data adminProviderPage
	if id == newKey {
		data = providerForm(config.Provider{Type: config.ProviderOIDC})
		data.New = true
	} else {
		i := core.FindProvider(&cur.m, id)
		if i < 0 {
			s.kit.Fail(c, notFound("provider"))
			return
		}
		data = providerForm(cur.m.Providers[i])
		data.ETag = providerETag(cur.m.Providers[i])
		data.UsedBy = poolsUsing(cur.m, id)
	}
	data.adminPage = s.adminPageFor(c, "Provider", "home")
	s.providerPageExtras(&data)
	s.kit.Render(c, http.StatusOK, "admin_provider", data, true)
}

// providerPageExtras fills what every provider page shows besides the form.
func (s *Server) providerPageExtras(data *adminProviderPage) {
	data.AdminSignIn = !data.New && s.isAdminProvider(data.ID)
	data.Locked = data.AdminSignIn && !data.CanOwn
	id := nonEmpty(data.ID, "ID")
	data.DefaultEntityID, data.DefaultACSURL = s.cfg.SAMLMetadataURL(id), s.cfg.SAMLACSURL(id)
}

func poolsUsing(m config.Mappings, provider string) []string {
	var out []string
	for _, p := range m.Pools {
		if slices.Contains(p.Providers, provider) {
			out = append(out, p.Name)
		}
	}
	return out
}

func words(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\r' || r == '\t' })
}

func (s *Server) uiSaveProvider(c *gin.Context) {
	id := c.Param("id")
	isNew := id == newKey
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	// The form's fields go onto the stored provider; what the form does not
	// show (static users, anything newer than this page) is kept.
	var stored config.Provider
	if !isNew {
		i := core.FindProvider(&cur.m, id)
		if i < 0 {
			s.kit.Fail(c, notFound("provider"))
			return
		}
		stored = cloneProvider(cur.m.Providers[i])
	}
	form := newAdminForm(c)
	p := cloneProvider(stored)
	readProvider(form, &p)
	if isNew {
		p.ID = strings.TrimSpace(c.PostForm("id"))
	}
	data := providerForm(p)
	data.adminPage = s.adminPageFor(c, "Provider", "home")
	data.New, data.ETag = isNew, c.PostForm("etag")
	data.HasSecret, data.HasSPKey = stored.ClientSecret != "", stored.SPKey != ""
	for _, f := range []string{"clock_skew", "metadata_refresh"} {
		if v, ok := c.GetPostForm(f); ok {
			if f == "clock_skew" {
				data.ClockSkew = strings.TrimSpace(v)
			} else {
				data.MetadataRefresh = strings.TrimSpace(v)
			}
		}
	}
	s.providerPageExtras(&data)
	rerender := func(status int) { s.kit.Render(c, status, "admin_provider", data, true) }
	if len(form.errs) > 0 {
		data.FieldErrors, data.HasFieldErrors = form.errs, true
		rerender(http.StatusUnprocessableEntity)
		return
	}
	var ch change
	if isNew {
		ch = createProvider(p)
	} else {
		if c.PostForm("etag") == "" {
			s.refuseChange(c, &problemsError{Error: core.Errorf(http.StatusPreconditionRequired, CodePreconditionRequired, "missing etag")}, &data.adminPage, "", rerender)
			return
		}
		ch = change{summary: fmt.Sprintf("provider %q changed", id), apply: func(m *config.Mappings, v int64) *core.Error {
			i := core.FindProvider(m, id)
			if i < 0 {
				return notFound("provider")
			}
			next := cloneProvider(m.Providers[i]) // the newest stored provider (its ETag is checked)
			readProvider(newAdminForm(c), &next)
			return updateProvider(id, ifMatch(c.PostForm("etag")), next).apply(m, v)
		}}
	}
	res, pe := s.commit(c.Request.Context(), adminFrom(c), ch)
	if pe != nil {
		prefix := s.providerPrefix(c, p.ID, isNew)
		s.refuseChange(c, pe, &data.adminPage, prefix, rerender)
		return
	}
	redirectSaved(c, "/admin/providers/"+url.PathEscape(p.ID), res.version)
}

// providerPrefix is the problem path of the provider being saved.
func (s *Server) providerPrefix(c *gin.Context, id string, isNew bool) string {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		return ""
	}
	i := core.FindProvider(&cur.m, id)
	if isNew || i < 0 {
		i = len(cur.m.Providers)
	}
	return fmt.Sprintf("providers[%d].", i)
}

func (s *Server) uiDeleteProvider(c *gin.Context) {
	id := c.Param("id")
	res, pe := s.commit(c.Request.Context(), adminFrom(c), deleteProvider(id, ifMatch(nonEmpty(c.PostForm("etag"), "-"))))
	if pe != nil {
		if len(pe.Problems) > 0 {
			pe.Message = "This provider cannot be deleted: " + problemList(pe.Problems)
			pe.Status = http.StatusUnprocessableEntity
		}
		s.kit.Fail(c, pe.Error)
		return
	}
	redirectSaved(c, "/admin", res.version)
}

func problemList(ps config.Problems) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, "; ")
}

// --- pools ---

type adminPoolPage struct {
	adminPage
	New                                                 bool
	ETag                                                string
	ID, Name, DisplayName, Mode, Resolution, NoMatch    string
	AuthenticatedRole, UnauthenticatedRole, RolesClaim  string
	PreferredRoleClaim, SessionNameClaim, PrincipalTags string
	TransitiveTagKeys, DurationSeconds                  string
	SAMLProviderARN                                     string
	OwnIssuer, AllowGuests, AllowClassicFlow            bool
	Checkboxes                                          string
	ProviderChoices                                     []adminChoice
	Rules                                               []adminRuleRow
	IssuerURL                                           string
}

type adminChoice struct {
	Value, Label string
	Selected     bool
}

type adminRuleRow struct {
	Index, Number    int
	Name, Role, Test string
	ETag             string
	First, Last      bool
	Error            string
}

func poolForm(p config.Pool, providers []config.Provider) adminPoolPage {
	v := adminPoolPage{ID: p.ID, Name: p.Name, DisplayName: p.DisplayName, Mode: p.Mode, Resolution: nonEmpty(p.Resolution, rules.FirstMatch),
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
		v.ProviderChoices = append(v.ProviderChoices, adminChoice{Value: pr.ID, Label: pr.DisplayName, Selected: slices.Contains(p.Providers, pr.ID)})
	}
	for i, r := range p.Rules {
		v.Rules = append(v.Rules, adminRuleRow{Index: i, Number: i + 1, Name: ruleLabel(r, i), Role: r.Role, Test: ruleTest(r),
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

func (s *Server) uiPool(c *gin.Context) {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	key := c.Param("pool")
	var data adminPoolPage
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
	data.adminPage = s.adminPageFor(c, "Pool "+nonEmpty(data.DisplayName, "new"), "home")
	s.kit.Render(c, http.StatusOK, "admin_pool", data, true)
}

// poolCheckboxes are the checkbox fields of the pool form (see
// providerCheckboxes); "providers" is the list of provider boxes.
const poolCheckboxes = "providers own_issuer allow_guests allow_classic_flow"

// readPool puts the pool form's settings onto p (the stored pool, or a new
// one); rules, and fields the form lacks, stay as they are.
func readPool(f *adminForm, p *config.Pool) {
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

func (s *Server) uiSavePool(c *gin.Context) {
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
	form := newAdminForm(c)
	readPool(form, &settings)
	if isNew {
		settings.ID = strings.TrimSpace(c.PostForm("id"))
	}
	data := poolForm(settings, cur.m.Providers)
	data.adminPage = s.adminPageFor(c, "Pool", "home")
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
			readPool(newAdminForm(c), p) // onto the newest stored pool (its ETag is checked)
			return nil
		}, "settings changed")
	}
	res, pe := s.commit(c.Request.Context(), adminFrom(c), ch)
	if pe != nil {
		s.refuseChange(c, pe, &data.adminPage, prefix, rerender)
		return
	}
	redirectSaved(c, "/admin/pools/"+url.PathEscape(settings.Name), res.version)
}

func (s *Server) uiDeletePool(c *gin.Context) {
	res, pe := s.commit(c.Request.Context(), adminFrom(c), deletePool(c.Param("pool"), ifMatch(nonEmpty(c.PostForm("etag"), "-"))))
	if pe != nil {
		if pe.Code == CodePreconditionFailed {
			pe.Message = "Someone changed this pool since you opened it. Reload the pool and delete it again if you still want to."
		}
		s.kit.Fail(c, pe.Error)
		return
	}
	redirectSaved(c, "/admin", res.version)
}

// --- rules ---

type adminRulePage struct {
	adminPage
	New                                             bool
	Pool, PoolDisplay, ETag                         string
	Index, Number                                   int
	Name, Role, CEL, DurationSeconds, SessionPolicy string
	Tags                                            string
	Conditions                                      []adminCondRow
	Ops                                             []string
}

type adminCondRow struct {
	N                int
	Claim, Op, Value string
	Error            string
}

var ruleOps = []string{"equals", "not_equals", "contains", "starts_with", "ends_with", "glob", "regex", "exists", "any_of"}

// extraConditionRows are the empty rows a rule form offers for new conditions.
const extraConditionRows = 3

func ruleForm(r rules.RuleSpec) adminRulePage {
	v := adminRulePage{Name: r.Name, Role: r.Role, CEL: r.CEL, SessionPolicy: r.SessionPolicy, Tags: pairsText(r.Tags), Ops: ruleOps}
	if r.DurationSeconds != 0 {
		v.DurationSeconds = strconv.Itoa(r.DurationSeconds)
	}
	for i, c := range r.Match {
		val := c.Value
		if c.Op == "any_of" {
			val = strings.Join(c.Values, ", ")
		}
		v.Conditions = append(v.Conditions, adminCondRow{N: i, Claim: c.Claim, Op: c.Op, Value: val})
	}
	for i := 0; i < extraConditionRows; i++ {
		v.Conditions = append(v.Conditions, adminCondRow{N: len(v.Conditions), Op: "equals"})
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

func (s *Server) uiRule(c *gin.Context) {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	pi := core.FindPool(&cur.m, c.Param("pool"))
	if pi < 0 {
		s.kit.Fail(c, notFound("pool"))
		return
	}
	p := cur.m.Pools[pi]
	var data adminRulePage
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
	data.adminPage = s.adminPageFor(c, "Rule", "home")
	s.kit.Render(c, http.StatusOK, "admin_rule", data, true)
}

func (s *Server) uiSaveRule(c *gin.Context) {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	pi := core.FindPool(&cur.m, c.Param("pool"))
	if pi < 0 {
		s.kit.Fail(c, notFound("pool"))
		return
	}
	pool := cur.m.Pools[pi]
	r, fieldErrs := ruleFromForm(c)
	isNew := c.Param("index") == newKey
	data := ruleForm(r)
	data.adminPage = s.adminPageFor(c, "Rule", "home")
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
	res, pe := s.commit(c.Request.Context(), adminFrom(c), ch)
	if pe != nil {
		s.refuseChange(c, pe, &data.adminPage, fmt.Sprintf("pools[%d].rules[%d].", pi, idx), rerender)
		return
	}
	redirectSaved(c, "/admin/pools/"+url.PathEscape(pool.Name), res.version)
}

func (s *Server) uiDeleteRule(c *gin.Context) {
	idx, err := strconv.Atoi(c.Param("index"))
	if err != nil || idx < 0 {
		s.kit.Fail(c, core.Errorf(http.StatusNotFound, core.CodeNotFound, "The pool has no rule at that position."))
		return
	}
	pool := c.Param("pool")
	res, pe := s.commit(c.Request.Context(), adminFrom(c), editRule(pool, idx, ifMatch(nonEmpty(c.PostForm("etag"), "-")), nil))
	if pe != nil {
		s.failRuleAction(c, pe)
		return
	}
	redirectSaved(c, "/admin/pools/"+url.PathEscape(pool), res.version)
}

func (s *Server) failRuleAction(c *gin.Context, pe *problemsError) {
	switch {
	case pe.Code == CodePreconditionFailed:
		pe.Message = "Someone changed this pool's rules since you opened the page. Reload it and try again."
	case len(pe.Problems) > 0:
		pe.Message = "Not saved: " + problemList(pe.Problems)
	}
	s.kit.Fail(c, pe.Error)
}

// uiMoveRule moves a rule one place up or down, under the pool's ETag.
func (s *Server) uiMoveRule(c *gin.Context) {
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
	res, pe := s.commit(c.Request.Context(), adminFrom(c), ch)
	if pe != nil {
		s.failRuleAction(c, pe)
		return
	}
	redirectSaved(c, "/admin/pools/"+url.PathEscape(pool), res.version)
}

// --- simulate ---

type adminSimulatePage struct {
	adminPage
	Pools        []adminChoice
	ClaimsText   string
	IDToken      string
	Error        string
	Result       *simResult
	ClaimsPretty string
	// SAMLProviders to pick from for a pasted SAML response (admin_simulate_saml.go).
	SAMLProviders []adminChoice
}

func (s *Server) uiSimulate(c *gin.Context) {
	data := adminSimulatePage{adminPage: s.adminPageFor(c, "Simulate", "simulate")}
	pool := c.PostForm("pool")
	if pool == "" {
		pool = c.Query("pool")
	}
	snap := s.core.Snapshot()
	for _, p := range snap.Ordered {
		data.Pools = append(data.Pools, adminChoice{Value: p.Cfg.Name, Label: p.Cfg.DisplayName + " (" + p.Cfg.Name + ")", Selected: p.Cfg.Name == pool})
	}
	data.SAMLProviders = samlProviderChoices(snap, c.PostForm("saml_provider")) // admin_simulate_saml.go
	data.ClaimsText = c.PostForm("claims")
	if data.ClaimsText == "" {
		data.ClaimsText = "{\n  \"sub\": \"user-123\",\n  \"email\": \"someone@example.com\",\n  \"groups\": [\"engineering\"]\n}"
	}
	status := http.StatusOK
	if c.Request.Method == http.MethodPost {
		req := simulateRequest{Pool: pool}
		if tok := strings.TrimSpace(c.PostForm("id_token")); tok != "" && c.PostForm("input") == "token" {
			req.IDToken = tok
		} else if resp := strings.TrimSpace(c.PostForm("saml_response")); resp != "" && c.PostForm("input") == "saml" {
			req.SAMLResponse, req.Provider = resp, c.PostForm("saml_provider") // admin_simulate_saml.go
		} else {
			claims, e := parseClaims(data.ClaimsText)
			if e != nil {
				data.Error, status = e.Message, e.Status
			}
			req.Claims = claims
		}
		if data.Error == "" {
			res, e := s.simulate(c.Request.Context(), req)
			if e != nil {
				data.Error, status = e.Message, e.Status
			} else {
				data.Result = res
				data.ClaimsPretty = core.MustJSON(res.Claims)
			}
		}
	}
	s.kit.Render(c, status, "admin_simulate", data, true)
}

// --- history ---

type adminHistoryPage struct {
	adminPage
	Versions []versionView
	Live     int64
	Older    int64
}

func (s *Server) uiHistory(c *gin.Context) {
	vs, e := s.listVersions(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	data := adminHistoryPage{adminPage: s.adminPageFor(c, "History", "history"), Versions: vs}
	if latest, err := s.store.LatestConfig(c.Request.Context()); err == nil {
		data.Live = latest.Version
	}
	if len(vs) > 0 && vs[len(vs)-1].Version > 1 {
		data.Older = vs[len(vs)-1].Version
	}
	s.kit.Render(c, http.StatusOK, "admin_history", data, true)
}

type adminVersionPage struct {
	adminPage
	V *versionDiff
}

func (s *Server) uiVersion(c *gin.Context) {
	v, e := s.versionWithDiff(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.kit.Render(c, http.StatusOK, "admin_version", adminVersionPage{adminPage: s.adminPageFor(c, fmt.Sprintf("Version %d", v.Version), "history"), V: v}, true)
}

func (s *Server) uiRestore(c *gin.Context) {
	res, pe := s.restore(c)
	if pe != nil {
		if len(pe.Problems) > 0 {
			pe.Message = "This version cannot be restored as it is: " + problemList(pe.Problems)
		}
		s.kit.Fail(c, pe.Error)
		return
	}
	redirectSaved(c, "/admin/history", res.version)
}

// --- audit ---

type adminAuditPage struct {
	adminPage
	Q, Kind, Result, Since, Until string
	Entries                       []adminAuditRow
	Older                         string
	ExportURL                     string
	Error                         string
}

type adminAuditRow struct {
	store.AuditEntry
	When string
}

func (s *Server) uiAudit(c *gin.Context) {
	data := adminAuditPage{adminPage: s.adminPageFor(c, "Audit log", "audit"), Q: c.Query("q"), Kind: c.Query("kind"),
		Result: c.Query("result"), Since: c.Query("since"), Until: c.Query("until")}
	q, e := auditQuery(c)
	status := http.StatusOK
	if e != nil {
		data.Error, status = e.Message, e.Status
	} else {
		q.Limit = 100
		entries, err := s.store.ListAudit(c.Request.Context(), q)
		if err != nil {
			s.kit.Fail(c, core.Internal(err))
			return
		}
		for _, en := range entries {
			data.Entries = append(data.Entries, adminAuditRow{AuditEntry: en, When: en.Time.UTC().Format(time.DateTime)})
		}
		params := url.Values{}
		for _, k := range []string{"q", "kind", "result", "since", "until"} {
			if v := c.Query(k); v != "" {
				params.Set(k, v)
			}
		}
		data.ExportURL = "/admin/api/v1/audit/export?" + params.Encode()
		if len(entries) == q.Limit {
			params.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
			data.Older = "/admin/audit?" + params.Encode()
		}
	}
	s.kit.Render(c, status, "admin_audit", data, true)
}
