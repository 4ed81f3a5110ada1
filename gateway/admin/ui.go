package admin

// The admin web UI: what every page shares, and the home page. Pages read
// the latest stored document; saves go through commit like API writes,
// with the ETag the page was rendered with as their precondition.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
)

// newKey addresses the "create" form of a collection; it cannot collide
// with an id or name (those start with a letter or digit).
const newKey = "_new"

// page is what every admin page sees.
type page struct {
	httpkit.Page
	Who string
	// AdminRole is the signed-in admin's role (owner, editor, viewer); a
	// name no page's own data uses, so a rule's Role cannot shadow it.
	AdminRole string
	CSRF      string
	CanEdit   bool
	CanOwn    bool
	// CanRestore: an owner may restore a version, unless the mappings
	// come from the file.
	CanRestore bool
	// MappingsFile names the file that holds the mappings when
	// mappings.source is file: the pages say so and offer no edit.
	MappingsFile   string
	Nav            string
	Flash          string
	Conflict       string
	Problems       []config.Problem // problems not shown next to a field
	FieldErrors    map[string]string
	HasFieldErrors bool
}

// pageFor is the common part of a page: who is signed in, what they may
// do, and the notice of a save that just went live.
func (s *Admin) pageFor(c *gin.Context, title, nav string) page {
	a := principalOf(c)
	p := page{Page: httpkit.Page{Title: title + " · admin", RequestID: httpkit.RequestID(c)}, Nav: nav, FieldErrors: map[string]string{}}
	if a != nil {
		p.Who, p.AdminRole, p.CSRF = a.Display, a.Role, a.CSRF
		p.CanEdit, p.CanOwn = a.can(config.AdminEditor), a.can(config.AdminOwner)
		p.CanRestore = p.CanOwn
	}
	// Saves would be refused (409 mappings_from_file): say so up front
	// and show no control that leads there. Access keys are not mappings.
	if p.MappingsFile = s.core.MappingsFile(); p.MappingsFile != "" {
		p.CanEdit, p.CanRestore = false, false
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
func (p *page) placeProblems(problems config.Problems, prefix string) {
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
func (s *Admin) refuseChange(c *gin.Context, pe *problemsError, pg *page, prefix string, rerender func(status int)) {
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

// redirectSaved sends the browser to "to" after a saved change; the page
// there says which version went live.
func redirectSaved(c *gin.Context, to string, version int64) {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	c.Redirect(http.StatusSeeOther, to+sep+"saved="+strconv.FormatInt(version, 10))
}

// homePage lists the pools, the providers and the latest versions.
type homePage struct {
	page
	Version   int64
	Pools     []poolRow
	Providers []providerRow
	Recent    []VersionView
}

// poolRow is a pool on the home page.
type poolRow struct {
	Name, DisplayName, ID, Mode, Resolution, Providers string
	Rules                                              int
}

// providerRow is a provider on the home page.
type providerRow struct{ ID, Type, DisplayName, Issuer string }

func (s *Admin) uiHome(c *gin.Context) {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	data := homePage{page: s.pageFor(c, "Mappings", "home"), Version: cur.version}
	for _, p := range cur.m.Pools {
		data.Pools = append(data.Pools, poolRow{Name: p.Name, DisplayName: p.DisplayName, ID: p.ID, Mode: p.Mode,
			Resolution: nonEmpty(p.Resolution, rules.FirstMatch), Providers: strings.Join(p.Providers, ", "), Rules: len(p.Rules)})
	}
	for _, p := range cur.m.Providers {
		data.Providers = append(data.Providers, providerRow{ID: p.ID, Type: p.Type, DisplayName: p.DisplayName, Issuer: p.Issuer()})
	}
	if vs, err := s.store.ListConfigs(c.Request.Context(), 0, 5); err == nil {
		for _, v := range vs {
			data.Recent = append(data.Recent, viewOf(v))
		}
	}
	s.kit.Render(c, http.StatusOK, "admin_home", data, true)
}

// choice is one option of a select or a set of checkboxes.
type choice struct {
	Value, Label string
	Selected     bool
}

// problemList is problems in one line, for pages that cannot show them
// field by field.
func problemList(ps config.Problems) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, "; ")
}
