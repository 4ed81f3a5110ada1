package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// AuditStore keeps the audit log: every admin change and every credential
// vend or refusal. Entries are append-only; nothing in them is secret (no
// token, assertion, credential or client secret ever goes in).
type AuditStore interface {
	// AppendAudit stores e and returns its id. The store assigns ID and, when
	// e.Time is zero, Time.
	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)
	// ListAudit returns the newest entries first that match q.
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
	// PruneAudit deletes at most limit of the oldest entries that are
	// older than before, or that are not among the newest maxRows entries
	// (0: no cap), and says how many it deleted. Callers prune a backlog in
	// several calls, so no transaction grows large. Ids have gaps, so the
	// cap may keep a few entries fewer than maxRows, never more. The newest
	// entry is never deleted, so ids never repeat.
	PruneAudit(ctx context.Context, before time.Time, maxRows int64, limit int) (int64, error)
}

// ConfigHistoryStore reads past configuration versions and writes a
// version together with its audit entry.
type ConfigHistoryStore interface {
	// GetConfig returns one version, ErrNotFound when there is none.
	GetConfig(ctx context.Context, version int64) (*ConfigVersion, error)
	// ListConfigs returns up to limit versions older than before (0 = from
	// the newest), newest first, without their documents.
	ListConfigs(ctx context.Context, before int64, limit int) ([]ConfigVersion, error)
	// PutConfigWithAudit is PutConfig and AppendAudit in one transaction:
	// either both the version and its audit entry (whose Version is set to
	// the new version) are stored, or neither.
	PutConfigWithAudit(ctx context.Context, v ConfigVersion, ifLatest int64, e AuditEntry) (int64, error)
}

// Audit entry kinds.
const (
	AuditAdminChange = "admin_change"
	AuditAdminSignIn = "admin_sign_in"
	AuditVend        = "vend"
	// AuditAccessKey is a Cognito API request signed with an access key.
	AuditAccessKey = "access_key"
)

// Audit results.
const (
	AuditOK      = "ok"
	AuditRefused = "refused"
	AuditFailed  = "failed"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`
	Actor      string    `json:"actor,omitempty"` // who acted: an admin, "api-token", "cli:<user>"
	IdentityID string    `json:"identity_id,omitempty"`
	Provider   string    `json:"provider,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Pool       string    `json:"pool,omitempty"`
	Role       string    `json:"role,omitempty"`
	Source     string    `json:"source_address,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
	Result     string    `json:"result"`
	Reason     string    `json:"reason,omitempty"`
	Version    int64     `json:"version,omitempty"` // configuration version an admin change made
}

// AuditQuery filters ListAudit. Zero fields do not filter.
type AuditQuery struct {
	// Text matches (case-insensitively, as a substring) the actor, identity
	// id, provider, subject, pool, role, source address, request id or reason.
	Text   string
	Kind   string
	Result string
	Since  time.Time // inclusive
	Until  time.Time // exclusive
	Before int64     // entries with an id below this (paging); 0 = newest
	Limit  int       // 1..MaxAuditPage; 0 means MaxAuditPage
}

// MaxAuditPage bounds one ListAudit answer.
const MaxAuditPage = 1000

// MaxAuditField bounds every text field of an entry; longer values are cut.
const MaxAuditField = 512

func checkAuditEntry(e AuditEntry) error {
	if e.Kind == "" || e.Result == "" {
		return errors.New("audit entry needs a kind and a result")
	}
	return nil
}

// MaxAuditPrune bounds the entries one PruneAudit call deletes.
const MaxAuditPrune = 10000

func checkAuditPrune(maxRows int64, limit int) error {
	if maxRows < 0 || limit < 1 || limit > MaxAuditPrune {
		return errors.New("audit prune out of range")
	}
	return nil
}

func checkAuditQuery(q AuditQuery) error {
	if q.Limit < 0 || q.Limit > MaxAuditPage || q.Before < 0 || len(q.Text) > MaxAuditField {
		return errors.New("audit query out of range")
	}
	return checkText(q.Text, q.Kind, q.Result)
}

// clipAudit cuts over-long fields at a rune boundary, and replaces NUL and
// invalid UTF-8 (an audit line is kept, not refused, for odd input).
func clipAudit(e AuditEntry) AuditEntry {
	for _, f := range []*string{&e.Kind, &e.Actor, &e.IdentityID, &e.Provider, &e.Subject, &e.Pool, &e.Role, &e.Source, &e.RequestID, &e.Result, &e.Reason} {
		*f = cleanText(*f)
		if len(*f) > MaxAuditField {
			*f = strings.ToValidUTF8((*f)[:MaxAuditField], "") + "…"
		}
	}
	return e
}
