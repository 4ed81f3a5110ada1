package admin

// The provider page: create, edit, delete.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

// providerPage is the provider form (OIDC, SAML and static fields).
type providerPage struct {
	page
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

// providerForm shows a provider in its form; secrets only as "set".
func providerForm(p config.Provider) providerPage {
	v := providerPage{ID: p.ID, Type: p.Type, DisplayName: p.DisplayName, Issuer: p.Issuer, ClientID: p.ClientID,
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

// readProvider puts the provider form's fields onto p (the stored provider,
// or a new one); static users and fields the form lacks stay as they are.
func readProvider(f *postedForm, p *config.Provider) {
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

func (s *Admin) uiProvider(c *gin.Context) {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	id := c.Param("id")
	var data providerPage
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
	data.page = s.pageFor(c, "Provider", "home")
	s.providerPageExtras(&data)
	s.kit.Render(c, http.StatusOK, "admin_provider", data, true)
}

// providerPageExtras fills what every provider page shows besides the form.
func (s *Admin) providerPageExtras(data *providerPage) {
	data.AdminSignIn = !data.New && s.isAdminProvider(data.ID)
	data.Locked = data.AdminSignIn && !data.CanOwn
	id := nonEmpty(data.ID, "ID")
	data.DefaultEntityID, data.DefaultACSURL = s.cfg.SAMLMetadataURL(id), s.cfg.SAMLACSURL(id)
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
		stored = cloneProvider(cur.m.Providers[i])
	}
	form := newPostedForm(c)
	p := cloneProvider(stored)
	readProvider(form, &p)
	if isNew {
		p.ID = strings.TrimSpace(c.PostForm("id"))
	}
	data := providerForm(p)
	data.page = s.pageFor(c, "Provider", "home")
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
			s.refuseChange(c, &problemsError{Error: core.Errorf(http.StatusPreconditionRequired, CodePreconditionRequired, "missing etag")}, &data.page, "", rerender)
			return
		}
		ch = change{summary: fmt.Sprintf("provider %q changed", id), apply: func(m *config.Mappings, v int64) *core.Error {
			i := core.FindProvider(m, id)
			if i < 0 {
				return notFound("provider")
			}
			next := cloneProvider(m.Providers[i]) // the newest stored provider (its ETag is checked)
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
