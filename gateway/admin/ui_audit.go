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

// auditRow is an entry with its time as shown.
type auditRow struct {
	store.AuditEntry
	When string
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
		for _, en := range entries {
			data.Entries = append(data.Entries, auditRow{AuditEntry: en, When: en.Time.UTC().Format(time.DateTime)})
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
