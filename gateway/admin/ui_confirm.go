package admin

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// Deleting asks first: the delete buttons lead to a page that says what
// goes and posts the delete only when confirmed, without any script.

// confirmPage asks before a delete.
type confirmPage struct {
	page
	Heading, What, Consequence string
	Action, ETag, Back, Button string
	Crumbs                     []crumb
}

// crumb is one step of the page's breadcrumb trail.
type crumb struct{ Label, URL string }

func (s *Admin) uiConfirmDeletePool(c *gin.Context) {
	_, p, ok := s.pagePool(c)
	if !ok {
		return
	}
	back := "/admin/pools/" + url.PathEscape(p.Name)
	data := confirmPage{
		Heading:     "Delete the pool " + nonEmpty(p.DisplayName, p.Name) + "?",
		What:        fmt.Sprintf("The pool %s (%s) and its %d rules will be deleted.", p.Name, p.ID, len(p.Rules)),
		Consequence: "Every sign-in to it stops at once, and nobody gets its roles any more. History keeps a copy that an owner can restore.",
		Action:      back + "/delete", ETag: poolETag(p), Back: back, Button: "Delete pool",
		Crumbs: []crumb{{"Mappings", "/admin"}, {nonEmpty(p.DisplayName, p.Name), back}},
	}
	data.page = s.pageFor(c, "Delete pool", "home")
	s.kit.Render(c, http.StatusOK, "admin_confirm", data, true)
}

func (s *Admin) uiConfirmDeleteRule(c *gin.Context) {
	_, p, ok := s.pagePool(c)
	if !ok {
		return
	}
	i, e := ruleIndex(c, &p)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	r := p.Rules[i]
	back := "/admin/pools/" + url.PathEscape(p.Name)
	data := confirmPage{
		Heading:     fmt.Sprintf("Delete rule #%d, %s?", i+1, ruleLabel(r, i)),
		What:        fmt.Sprintf("It gives the role %s to everyone whose claims pass: %s.", r.Role, ruleTest(r)),
		Consequence: "People it matches lose that role at once (unless another rule gives it). History keeps a copy that an owner can restore.",
		Action:      fmt.Sprintf("%s/rules/%d/delete", back, i), ETag: ruleETag(p, i), Back: back, Button: "Delete rule",
		Crumbs: []crumb{{"Mappings", "/admin"}, {nonEmpty(p.DisplayName, p.Name), back}},
	}
	data.page = s.pageFor(c, "Delete rule", "home")
	s.kit.Render(c, http.StatusOK, "admin_confirm", data, true)
}
