package admin

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// auditQuery reads the search form / query string of the audit log.
func auditQuery(c *gin.Context) (store.AuditQuery, *core.Error) {
	q := store.AuditQuery{Text: c.Query("q"), Kind: c.Query("kind"), Result: c.Query("result")}
	if len(q.Text) > store.MaxAuditField {
		return q, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The search text is too long.")
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if v := c.Query(p.name); v != "" {
			t, err := parseAuditTime(v)
			if err != nil {
				return q, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "%s must be a date (2006-01-02) or an RFC 3339 time.", p.name)
			}
			*p.dst = t
		}
	}
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return q, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "before must be an entry id.")
		}
		q.Before = n
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxAuditPage {
			return q, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "limit must be between 1 and %d.", store.MaxAuditPage)
		}
		q.Limit = n
	}
	return q, nil
}

func parseAuditTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", v)
}

// apiListAudit: GET /admin/api/v1/audit.
func (s *Admin) apiListAudit(c *gin.Context) {
	q, e := auditQuery(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	entries, err := s.store.ListAudit(c.Request.Context(), q)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	if entries == nil {
		entries = []store.AuditEntry{}
	}
	c.JSON(http.StatusOK, gin.H{"entries": entries})
}

// apiExportAudit: GET /admin/api/v1/audit/export, JSON lines, every entry
// matching the query, oldest page last (newest first), paged through.
func (s *Admin) apiExportAudit(c *gin.Context) {
	q, e := auditQuery(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	q.Limit = store.MaxAuditPage
	c.Header("Content-Type", "application/x-ndjson")
	c.Header("Content-Disposition", `attachment; filename="fedgate-audit.jsonl"`)
	c.Status(http.StatusOK)
	w := bufio.NewWriter(c.Writer)
	enc := json.NewEncoder(w)
	for {
		entries, err := s.store.ListAudit(c.Request.Context(), q)
		if err != nil {
			// Headers are out: end the stream; the log has the cause.
			log := core.LogFrom(c.Request.Context(), s.log)
			if core.ClientGone(c.Request.Context(), http.StatusInternalServerError, err) {
				log.Warn("audit export ended: the client hung up", "status", core.StatusClientClosed, "error", err)
			} else {
				log.Error("audit export failed", "error", err)
			}
			break
		}
		for _, en := range entries {
			if err := enc.Encode(en); err != nil {
				return
			}
		}
		if len(entries) < q.Limit {
			break
		}
		q.Before = entries[len(entries)-1].ID
	}
	_ = w.Flush()
}
