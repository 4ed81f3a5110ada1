package admin

// The history pages: versions, one version with its diff, restore.

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// historyPage lists versions, newest first; Older pages back.
type historyPage struct {
	page
	Versions []VersionView
	Live     int64
	Older    int64
}

func (s *Admin) uiHistory(c *gin.Context) {
	vs, e := s.listVersions(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	data := historyPage{page: s.pageFor(c, "History", "history"), Versions: vs}
	if latest, err := s.store.LatestConfig(c.Request.Context()); err == nil {
		data.Live = latest.Version
	}
	if len(vs) > 0 && vs[len(vs)-1].Version > 1 {
		data.Older = vs[len(vs)-1].Version
	}
	s.kit.Render(c, http.StatusOK, "admin_history", data, true)
}

// versionPage is one version and what it changed.
type versionPage struct {
	page
	V *VersionDiff
}

func (s *Admin) uiVersion(c *gin.Context) {
	v, e := s.versionWithDiff(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.kit.Render(c, http.StatusOK, "admin_version", versionPage{page: s.pageFor(c, fmt.Sprintf("Version %d", v.Version), "history"), V: v}, true)
}

func (s *Admin) uiRestore(c *gin.Context) {
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
