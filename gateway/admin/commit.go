package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
)

// Source marks configuration versions written through /admin (as
// core.SourceFile and core.SourceCLI mark the others).
const Source = "admin"

// maxCommitAttempts bounds the retries of one change against concurrent writers.
const maxCommitAttempts = 200

// liveDoc is a stored mappings document, opened.
type liveDoc struct {
	version int64
	m       config.Mappings
}

// loadDoc reads and opens one stored version (0 = latest).
func (s *Admin) loadDoc(ctx context.Context, version int64) (*liveDoc, *store.ConfigVersion, error) {
	var v *store.ConfigVersion
	var err error
	if version == 0 {
		v, err = s.store.LatestConfig(ctx)
	} else {
		v, err = s.store.GetConfig(ctx, version)
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := core.OpenMappings(s.box, v)
	if err != nil {
		return nil, nil, err
	}
	return &liveDoc{version: v.Version, m: m}, v, nil
}

// changeProblems is an apply failure that is a list of problems with the
// new document (such as a secret to enter again): commit reports them
// together with validation's.
func changeProblems(ps config.Problems) *core.Error {
	e := core.Errorf(http.StatusUnprocessableEntity, CodeInvalidMappings, "The change was not saved: %d problem(s) to fix.", len(ps))
	e.Cause = ps
	return e
}

// etagOf is a strong ETag over a resource as the admin sees it (secrets
// redacted, so the tag reveals nothing about them).
func etagOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func providerETag(p config.Provider) string { return etagOf(core.RedactProvider(p)) }
func poolETag(p config.Pool) string         { return etagOf(p) }
func ruleETag(p config.Pool, i int) string {
	return etagOf(struct {
		Pool  string
		Index int
		Rule  any
	}{p.ID, i, p.Rules[i]})
}
func docETag(version int64) string { return fmt.Sprintf(`"v%d"`, version) }

// ifMatch is the precondition of a write: the ETag the caller last saw.
type ifMatch string

// check compares the precondition with the resource's current ETag.
func (im ifMatch) check(current string) *core.Error {
	if im == "*" {
		return nil
	}
	for _, tag := range strings.Split(string(im), ",") {
		if strings.TrimSpace(tag) == current {
			return nil
		}
	}
	e := core.Errorf(http.StatusPreconditionFailed, CodePreconditionFailed, "Someone changed this since you read it. Reload it, reapply your change and try again.")
	e.Cause = fmt.Errorf("If-Match %s, current %s", im, current)
	return e
}

// requireIfMatch reads If-Match (API) or the form's etag field (UI).
func requireIfMatch(c *gin.Context) (ifMatch, *core.Error) {
	v := c.GetHeader("If-Match")
	if v == "" && !isAPI(c) {
		v = c.PostForm("etag")
	}
	if v == "" {
		return "", core.Errorf(http.StatusPreconditionRequired, CodePreconditionRequired, "Send If-Match with the ETag you read, so a concurrent change is not overwritten.")
	}
	if len(v) > 512 {
		return "", core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "If-Match is too long.")
	}
	return ifMatch(v), nil
}

// problemsError is a refused change: every problem found, each at its path.
type problemsError struct {
	*core.Error
	Problems config.Problems
}

// change is one admin edit: apply mutates a copy of the latest document
// (and checks preconditions against it); it may run several times when
// other writers get in first.
type change struct {
	summary string // the audit reason, e.g. `rule "x" added to pool team`
	pool    string // the pool id it touches, if one
	// poolKey names (by id or name) the pool it touches when pool is not
	// known before apply; commit resolves it for the audit entry.
	poolKey string
	apply   func(m *config.Mappings, version int64) *core.Error
}

// commitResult is a stored change.
type commitResult struct {
	version int64
	m       config.Mappings
}

// commit applies ch to the latest document, validates the result exactly
// as `fedgate check` and a reload would, and stores it as a new version
// with its audit entry in one transaction. Concurrent writers are retried
// against the new latest version (and ch's preconditions rechecked), so no
// accepted change is lost or recorded twice.
func (s *Admin) commit(ctx context.Context, who *principal, ch change) (*commitResult, *problemsError) {
	wrap := func(e *core.Error) *problemsError { return &problemsError{Error: e} }
	if s.cfg.MappingsSource.Source == config.MappingsFromFile {
		return nil, wrap(core.Errorf(http.StatusConflict, CodeMappingsFromFile,
			"Providers, pools and rules are managed in the configuration file (mappings.source: file), so this gateway does not change them. "+
				"Export the live version as YAML (fedgate mappings export, or GET /admin/api/v1/mappings/export), change the file, and deploy it."))
	}
	for attempt := 0; attempt < maxCommitAttempts; attempt++ {
		cur, _, err := s.loadDoc(ctx, 0)
		if err != nil {
			return nil, wrap(core.Internal(err))
		}
		m := core.CloneMappings(cur.m)
		var pending config.Problems // problems apply found; reported with validation's
		if e := ch.apply(&m, cur.version); e != nil {
			if e.Code != CodeInvalidMappings || !errors.As(e.Cause, &pending) {
				return nil, wrap(e)
			}
		}
		if e := s.checkAdminProviders(who, cur.m, m); e != nil {
			return nil, wrap(e)
		}
		snap, problems, err := s.core.CheckMappings(ctx, m)
		if problems = append(pending, problems...); len(problems) > 0 {
			core.SortProblemsByPath(problems)
			e := core.Errorf(http.StatusUnprocessableEntity, CodeInvalidMappings, "The change was not saved: %d problem(s) to fix.", len(problems))
			return nil, &problemsError{Error: e, Problems: problems}
		}
		if err != nil {
			e := core.Errorf(http.StatusUnprocessableEntity, CodeInvalidMappings, "The change was not saved: a provider could not be set up.")
			e.Cause = err
			return nil, wrap(e)
		}
		doc, err := json.Marshal(m)
		if err != nil {
			return nil, wrap(core.Internal(err))
		}
		sealed, err := s.box.Seal(doc, []byte("config"))
		if err != nil {
			return nil, wrap(core.Internal(err))
		}
		entry := core.WithAuditMeta(ctx, store.AuditEntry{Kind: store.AuditAdminChange, Actor: who.Actor, Provider: who.Provider,
			Subject: who.Subject, Pool: ch.poolID(cur.m, m), Role: who.Role, Result: store.AuditOK, Reason: ch.summary})
		v, err := s.store.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: sealed, Hash: s.box.Digest(doc),
			Author: who.Display, Source: Source, Comment: ch.summary}, cur.version, entry)
		if errors.Is(err, store.ErrConflict) {
			s.backoff(ctx, attempt)
			continue
		}
		if err != nil {
			return nil, wrap(core.Internal(err))
		}
		snap.Version = v
		s.core.SwapSnapshot(snap)
		core.LogFrom(ctx, s.log).Info("configuration changed", "version", v, "actor", who.Actor, "change", ch.summary)
		return &commitResult{version: v, m: m}, nil
	}
	return nil, wrap(core.Errorf(http.StatusConflict, CodeConflict, "Too many changes at once; try again."))
}

// poolID is the id of the pool the change touches, for its audit entry:
// ch.pool, or ch.poolKey looked up before the change (a rename or a
// delete) and then after it.
func (ch change) poolID(before, after config.Mappings) string {
	if ch.pool != "" || ch.poolKey == "" {
		return ch.pool
	}
	for _, m := range []*config.Mappings{&before, &after} {
		if i := core.FindPool(m, ch.poolKey); i >= 0 {
			return m.Pools[i].ID
		}
	}
	return ""
}

// checkAdminProviders refuses a change to (or deletion of) a provider that
// admins sign in with unless the caller is an owner: otherwise an editor
// could make themselves an owner, e.g. by giving a static user the owners'
// group or pointing the provider at an IdP they run.
func (s *Admin) checkAdminProviders(who *principal, before, after config.Mappings) *core.Error {
	if who.can(config.AdminOwner) {
		return nil
	}
	for _, id := range s.cfg.Admin.Providers {
		var a, b *config.Provider
		if i := core.FindProvider(&before, id); i >= 0 {
			a = &before.Providers[i]
		}
		if i := core.FindProvider(&after, id); i >= 0 {
			b = &after.Providers[i]
		}
		if !sameJSON(a, b) {
			return core.Errorf(http.StatusForbidden, CodeForbidden,
				"Admins sign in with the provider %q, so only an owner can change or delete it; your admin role is %s.", core.Truncate(id, 64), who.Role)
		}
	}
	return nil
}

// sameJSON compares two values as they are stored.
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// backoff waits a little, more on each attempt, with jitter from s.rand.
func (s *Admin) backoff(ctx context.Context, attempt int) {
	var b [1]byte
	_, _ = s.rand.Read(b[:])
	d := time.Duration(1+min(attempt, 20)) * time.Millisecond / 2
	d += time.Duration(b[0]) * 20 * time.Microsecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Problem is one validation problem in API answers.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// failChange answers a refused change: problems as a list in JSON.
func (s *Admin) failChange(c *gin.Context, pe *problemsError) {
	if len(pe.Problems) == 0 {
		s.kit.Fail(c, pe.Error)
		return
	}
	core.LogFrom(c.Request.Context(), s.log).Info("admin change refused", "code", pe.Code, "problems", len(pe.Problems))
	out := make([]Problem, len(pe.Problems))
	for i, p := range pe.Problems {
		out[i] = Problem{Path: p.Path, Message: p.Message}
	}
	httpkit.NoCache(c)
	c.AbortWithStatusJSON(pe.Status, gin.H{"code": pe.Code, "message": pe.Message, "request_id": httpkit.RequestID(c), "problems": out})
}
