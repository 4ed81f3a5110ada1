package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange"
	"fedgate/exchange/rules"
	"fedgate/gateway/store"
)

// vend exchanges a granted role for credentials and records the outcome
// in the audit log (never the credentials or the token).
func (s *Server) Vend(ctx context.Context, p *Principal, g rules.Grant, durationSeconds int) (*exchange.Credentials, string, *Error) {
	creds, id, e := s.vendUnaudited(ctx, p, g, durationSeconds)
	entry := vendEntry(p, g.Role)
	entry.IdentityID = id
	if e != nil {
		entry.Result, entry.Reason = ResultOf(e), e.Code
	} else {
		entry.Result, entry.Reason = store.AuditOK, "rule "+g.Rule
	}
	s.Audit(ctx, entry)
	return creds, id, e
}

// auditRefusal records a refusal decided before any vend (no rule
// matched, role not entitled).
func (s *Server) AuditRefusal(ctx context.Context, p *Principal, role string, e *Error) {
	entry := vendEntry(p, role)
	entry.IdentityID = p.KnownID // set when the caller resolved it (Cognito)
	entry.Result, entry.Reason = ResultOf(e), e.Code
	s.Audit(ctx, entry)
}

func vendEntry(p *Principal, role string) store.AuditEntry {
	return store.AuditEntry{Kind: store.AuditVend, Provider: p.Provider.Cfg.ID, Subject: p.Ident.Subject, Pool: p.Pool.Cfg.ID, Role: role}
}

func ResultOf(e *Error) string {
	if e.Status >= 500 {
		return store.AuditFailed
	}
	return store.AuditRefused
}

// auditQuery reads the search form / query string of the audit log.
func auditQuery(c *gin.Context) (store.AuditQuery, *Error) {
	q := store.AuditQuery{Text: c.Query("q"), Kind: c.Query("kind"), Result: c.Query("result")}
	if len(q.Text) > store.MaxAuditField {
		return q, Errorf(http.StatusBadRequest, CodeInvalidRequest, "The search text is too long.")
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if v := c.Query(p.name); v != "" {
			t, err := parseAuditTime(v)
			if err != nil {
				return q, Errorf(http.StatusBadRequest, CodeInvalidRequest, "%s must be a date (2006-01-02) or an RFC 3339 time.", p.name)
			}
			*p.dst = t
		}
	}
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return q, Errorf(http.StatusBadRequest, CodeInvalidRequest, "before must be an entry id.")
		}
		q.Before = n
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxAuditPage {
			return q, Errorf(http.StatusBadRequest, CodeInvalidRequest, "limit must be between 1 and %d.", store.MaxAuditPage)
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
func (s *Server) apiListAudit(c *gin.Context) {
	q, e := auditQuery(c)
	if e != nil {
		s.fail(c, e)
		return
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	entries, err := s.store.ListAudit(c.Request.Context(), q)
	if err != nil {
		s.fail(c, Internal(err))
		return
	}
	if entries == nil {
		entries = []store.AuditEntry{}
	}
	c.JSON(http.StatusOK, gin.H{"entries": entries})
}

// apiExportAudit: GET /admin/api/v1/audit/export, JSON lines, every entry
// matching the query, oldest page last (newest first), paged through.
func (s *Server) apiExportAudit(c *gin.Context) {
	q, e := auditQuery(c)
	if e != nil {
		s.fail(c, e)
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
			LogFrom(c.Request.Context(), s.log).Error("audit export failed", "error", err)
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
