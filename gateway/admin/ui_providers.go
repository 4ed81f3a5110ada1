package admin

// The provider page: create, edit, delete.

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/idp"
	"fedgate/idp/registry"
	"fedgate/idp/settings"
)

// providerPage is the provider form. Its fields come from the registered
// provider types' settings: a section per type, and once above them the
// fields several types share (clock skew).
type providerPage struct {
	page
	New                   bool
	ETag                  string
	ID, Type, DisplayName string
	Types                 []typeSection
	UsedBy                []string
	// AdminSignIn: admins sign in with this provider, so only an owner
	// may change or delete it (Locked for everyone else).
	AdminSignIn, Locked bool
	Checkboxes          string
	// Placeholder stands for a stored secret.
	Placeholder string
}

// typeSection is one provider type's part of the form.
type typeSection struct {
	Name, Title, Summary string
	Selected             bool
	Fields               []formField
}

// formField is one setting on the form.
type formField struct {
	Key, Label, Help, Kind string
	Value, Placeholder     string
	Checked                bool
	// HasSecret: a secret is stored (it is never shown).
	Secret, HasSecret bool
	// Entries are the keys of a list edited elsewhere (static users).
	Entries []string
	// ID is the input's id: the key, or type-key where another type's
	// section has the same key.
	ID string
	// Section is the type whose section shows the field.
	Section string
}

// providerForm shows a provider in its form; secrets only as "stored".
// site gives the defaults shown as placeholders.
func providerForm(p config.Provider, site idp.Site) providerPage {
	v := providerPage{ID: p.ID, Type: p.Type, DisplayName: p.DisplayName, Placeholder: core.SecretPlaceholder}
	owners := keyOwners()
	var checkboxes []string
	for _, t := range registry.Types() {
		cfg := t.New()
		if p.Settings != nil && p.Type == t.Name {
			cfg = p.Settings
		}
		defaults := config.Provider{Type: t.Name, Settings: cfg}.Clone().Settings
		defaults.ApplyDefaults(site)
		sec := typeSection{Name: t.Name, Title: t.Title, Summary: t.Summary, Selected: p.Type == t.Name}
		for _, f := range settings.Fields(cfg) {
			ff := fieldOf(cfg, defaults, f)
			// A key several types have is in each of their sections; the
			// first type's input keeps the plain id.
			ff.ID, ff.Section = f.Key, t.Name
			if owners[f.Key][0] != t.Name {
				ff.ID = t.Name + "-" + f.Key
			}
			if f.Kind == settings.KindBool {
				checkboxes = append(checkboxes, f.Key)
			}
			sec.Fields = append(sec.Fields, ff)
		}
		v.Types = append(v.Types, sec)
	}
	v.Checkboxes = strings.Join(checkboxes, " ")
	return v
}

// keyOwners are, for each settings key, the types that have it, in the
// order of the registry (and so of the form's sections).
func keyOwners() map[string][]string {
	owners := map[string][]string{}
	for _, t := range registry.Types() {
		for _, f := range settings.Fields(t.New()) {
			owners[f.Key] = append(owners[f.Key], t.Name)
		}
	}
	return owners
}

// fieldOf is f of cfg as the form shows it, with the value defaults would
// give as its placeholder.
func fieldOf(cfg, defaults idp.Config, f settings.Field) formField {
	ff := formField{Key: f.Key, Label: f.Label, Help: f.Help, Kind: string(f.Kind), Secret: f.Secret}
	val, _ := settings.Value(cfg, f.Key)
	def, _ := settings.Value(defaults, f.Key)
	text := func(v reflect.Value) string {
		switch f.Kind {
		case settings.KindList:
			return strings.Join(v.Interface().([]string), " ")
		case settings.KindDuration:
			if d, ok := v.Interface().(*settings.Duration); ok {
				if d == nil {
					return ""
				}
				return d.D().String() // set, even to 0
			}
			if d := v.Interface().(settings.Duration); d != 0 {
				return d.D().String()
			}
			return ""
		case settings.KindText, settings.KindBlock:
			return v.String()
		}
		return ""
	}
	switch {
	case f.Secret:
		ff.HasSecret = val.String() != ""
	case f.Kind == settings.KindBool:
		ff.Checked = val.Bool()
	case f.Kind == settings.KindOther:
		ff.Entries = settings.Entries(cfg, f.Key)
	default:
		ff.Value = text(val)
		if p := text(def); p != ff.Value {
			ff.Placeholder = p
		}
	}
	return ff
}

// readProvider puts the provider form's fields onto p (the stored provider,
// or a new one): the chosen type's settings the form carries; what the
// form does not show (static users, settings newer than this page) stays.
func readProvider(f *postedForm, p *config.Provider) {
	f.text("type", &p.Type)
	f.text("display_name", &p.DisplayName)
	t, ok := registry.Lookup(p.Type)
	if !ok {
		p.Settings = nil
		return
	}
	if p.Settings == nil || fmt.Sprintf("%T", p.Settings) != fmt.Sprintf("%T", t.New()) {
		p.Settings = t.New()
	}
	// Every section carries its type's inputs, so a key several types
	// have is posted once per section: take the chosen type's.
	f.section = p.Type
	for key, types := range keyOwners() {
		if i := slices.Index(types, p.Type); i > 0 {
			f.pick[key] = i
		}
	}
	for _, fld := range settings.Fields(p.Settings) {
		v, _ := settings.Value(p.Settings, fld.Key)
		switch fld.Kind {
		case settings.KindText:
			if fld.Secret {
				f.secret(fld.Key, v.Addr().Interface().(*string))
			} else {
				f.text(fld.Key, v.Addr().Interface().(*string))
			}
		case settings.KindBlock:
			if fld.Secret {
				f.secret(fld.Key, v.Addr().Interface().(*string))
			} else {
				f.block(fld.Key, v.Addr().Interface().(*string))
			}
		case settings.KindList:
			f.list(fld.Key, v.Addr().Interface().(*[]string))
		case settings.KindBool:
			f.check(fld.Key, v.Addr().Interface().(*bool))
		case settings.KindDuration:
			if v.Kind() == reflect.Pointer {
				f.optionalDuration(fld.Key, v.Addr().Interface().(**config.Duration))
			} else {
				f.duration(fld.Key, v.Addr().Interface().(*config.Duration))
			}
		}
	}
}

func (s *Admin) uiProvider(c *gin.Context) {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	id := c.Param("id")
	var data providerPage
	if id == newKey {
		data = providerForm(config.Provider{Type: config.ProviderOIDC}, s.site(""))
		data.New = true
	} else {
		i := core.FindProvider(&cur.m, id)
		if i < 0 {
			s.kit.Fail(c, notFound("provider"))
			return
		}
		data = providerForm(cur.m.Providers[i], s.site(id))
		data.ETag = providerETag(cur.m.Providers[i])
		data.UsedBy = poolsUsing(cur.m, id)
	}
	data.page = s.pageFor(c, "Provider", "home")
	s.providerPageExtras(&data)
	s.kit.Render(c, http.StatusOK, "admin_provider", data, true)
}

// providerPageExtras fills what every provider page shows besides the form.
func (s *Admin) providerPageExtras(data *providerPage) {
	data.AdminSignIn = !data.New && s.isAdminProvider(data.ID)
	data.Locked = data.AdminSignIn && !data.CanOwn
}

// poolsUsing names the pools that accept a provider.
func poolsUsing(m config.Mappings, provider string) []string {
	var out []string
	for _, p := range m.Pools {
		if slices.Contains(p.Providers, provider) {
			out = append(out, p.Name)
		}
	}
	return out
}

func (s *Admin) uiSaveProvider(c *gin.Context) {
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
		stored = cur.m.Providers[i].Clone()
	}
	form := newPostedForm(c)
	p := stored.Clone()
	readProvider(form, &p)
	if isNew {
		p.ID = strings.TrimSpace(c.PostForm("id"))
	}
	data := s.postedProviderPage(c, p, stored, isNew)
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
			s.refuseChange(c, &problemsError{Error: core.Errorf(http.StatusPreconditionRequired, CodePreconditionRequired, "missing etag")}, &data.page, "", rerender)
			return
		}
		ch = change{summary: fmt.Sprintf("provider %q changed", id), apply: func(m *config.Mappings, v int64) *core.Error {
			i := core.FindProvider(m, id)
			if i < 0 {
				return notFound("provider")
			}
			next := m.Providers[i].Clone() // the newest stored provider (its ETag is checked)
			readProvider(newPostedForm(c), &next)
			return updateProvider(id, ifMatch(c.PostForm("etag")), next).apply(m, v)
		}}
	}
	res, pe := s.commit(c.Request.Context(), principalOf(c), ch)
	if pe != nil {
		prefix := s.providerPrefix(c, p.ID, isNew)
		s.refuseChange(c, pe, &data.page, prefix, rerender)
		return
	}
	redirectSaved(c, "/admin/providers/"+url.PathEscape(p.ID), res.version)
}

// providerPrefix is the problem path of the provider being saved.
func (s *Admin) providerPrefix(c *gin.Context, id string, isNew bool) string {
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

func (s *Admin) uiDeleteProvider(c *gin.Context) {
	id := c.Param("id")
	res, pe := s.commit(c.Request.Context(), principalOf(c), deleteProvider(id, ifMatch(nonEmpty(c.PostForm("etag"), "-"))))
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

// postedProviderPage is the form again after a refused save: what was
// posted (durations as typed), and which secrets are stored.
func (s *Admin) postedProviderPage(c *gin.Context, p, stored config.Provider, isNew bool) providerPage {
	data := providerForm(p, s.site(p.ID))
	data.page = s.pageFor(c, "Provider", "home")
	data.New, data.ETag = isNew, c.PostForm("etag")
	storedSecrets := map[string]bool{}
	if stored.Settings != nil && stored.Type == p.Type {
		for _, k := range settings.SecretKeys(stored.Settings) {
			if v, ok := settings.Value(stored.Settings, k); ok && v.Kind() == reflect.String && v.String() != "" {
				storedSecrets[k] = true
			}
		}
	}
	fix := func(fs []formField, selected bool) {
		for i := range fs {
			if fs[i].Secret {
				fs[i].HasSecret = storedSecrets[fs[i].Key]
			}
			if v, ok := c.GetPostForm(fs[i].Key); ok && fs[i].Kind == string(settings.KindDuration) && selected {
				fs[i].Value = strings.TrimSpace(v)
			}
		}
	}
	for i := range data.Types {
		fix(data.Types[i].Fields, data.Types[i].Selected)
	}
	s.providerPageExtras(&data)
	return data
}

// site is where a provider of this gateway serves, for default endpoints.
func (s *Admin) site(id string) idp.Site {
	return idp.Site{ID: nonEmpty(id, "ID"), PublicURL: s.cfg.Server.PublicURL}
}
