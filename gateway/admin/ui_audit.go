package admin

// The audit log page: search, page back, export.

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// auditPage is a page of audit entries matching the search.
type auditPage struct {
	page
	Q, Kind, Result, Since, Until string
	Entries                       []auditRow
	Older                         string
	ExportURL                     string
	Error                         string
}

// auditRow is an entry with its time as shown, and the names of the pool
// and provider its ids refer to (as the live configuration names them).
type auditRow struct {
	store.AuditEntry
	When                  string
	PoolName, PoolDisplay string
	ProviderName          string
}

func (s *Admin) uiAudit(c *gin.Context) {
	data := auditPage{page: s.pageFor(c, "Audit log", "audit"), Q: c.Query("q"), Kind: c.Query("kind"),
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
		snap := s.core.Snapshot()
		for _, en := range entries {
			row := auditRow{AuditEntry: en, When: en.Time.UTC().Format(time.DateTime)}
			if p := snap.Pools[en.Pool]; p != nil {
				row.PoolName, row.PoolDisplay = p.Cfg.Name, p.Cfg.DisplayName
			}
			if p := snap.Providers[en.Provider]; p != nil {
				row.ProviderName = p.DisplayName()
			}
			data.Entries = append(data.Entries, row)
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
