package gateway

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
	"fedgate/gateway/store"
)

// SecretPlaceholder stands for a stored secret in everything the admin
// surface shows; sent back, it keeps the stored value.
const SecretPlaceholder = "••••"

// SourceAdmin marks configuration versions written through /admin.
const SourceAdmin = "admin"

// maxCommitAttempts bounds the retries of one change against concurrent writers.
const maxCommitAttempts = 200

// liveDoc is the latest stored mappings document.
type liveDoc struct {
	version int64
	m       config.Mappings
}

// loadDoc reads and opens one stored version (0 = latest).
func (s *Server) loadDoc(ctx context.Context, version int64) (*liveDoc, *store.ConfigVersion, error) {
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
	doc, err := s.box.Open(v.Doc, []byte("config"))
	if err != nil {
		return nil, nil, fmt.Errorf("opening configuration version %d: %w", v.Version, err)
	}
	var m config.Mappings
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, nil, fmt.Errorf("decoding configuration version %d: %w", v.Version, err)
	}
	return &liveDoc{version: v.Version, m: m}, v, nil
}

// cloneMappings deep-copies through JSON, so a change never touches the
// document it was read from.
func CloneMappings(m config.Mappings) config.Mappings {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // plain data always encodes
	}
	var out config.Mappings
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// redactMappings hides every secret behind the placeholder.
func RedactMappings(m config.Mappings) config.Mappings {
	out := CloneMappings(m)
	for i := range out.Providers {
		out.Providers[i] = RedactProvider(out.Providers[i])
	}
	return out
}

func RedactProvider(p config.Provider) config.Provider {
	if p.ClientSecret != "" {
		p.ClientSecret = SecretPlaceholder
	}
	if p.SPKey != "" {
		p.SPKey = SecretPlaceholder
	}
	if len(p.Users) > 0 {
		users := append(p.Users[:0:0], p.Users...)
		for j := range users {
			if users[j].PasswordHash != "" {
				users[j].PasswordHash = SecretPlaceholder
			}
		}
		p.Users = users
	}
	return p
}

// keepSecrets puts the stored secrets (client_secret, sp_key, static
// users' password hashes) back where the new provider carries the
// placeholder (or leaves a user's hash empty). A stored client secret is
// never kept for a provider whose issuer or type changes, since it would be
// sent to the new issuer's token endpoint: an OIDC provider must have it
// entered again (the problem is reported at at+"client_secret", at being
// e.g. "providers[2]."), another type simply drops it. An sp_key is kept
// only while the provider stays a saml provider.
func keepSecrets(next *config.Provider, old *config.Provider, at string) config.Problems {
	if old == nil {
		if next.ClientSecret == SecretPlaceholder {
			next.ClientSecret = ""
		}
		if next.SPKey == SecretPlaceholder {
			next.SPKey = ""
		}
		return nil
	}
	var problems config.Problems
	if next.ClientSecret == SecretPlaceholder {
		moved := next.Issuer != old.Issuer || next.Type != old.Type
		switch {
		case !moved:
			next.ClientSecret = old.ClientSecret
		case old.ClientSecret != "" && next.Type == config.ProviderOIDC:
			next.ClientSecret = ""
			problems = append(problems, config.Problem{Path: at + "client_secret",
				Message: "the issuer or type changed: enter the client secret again (the stored one is not sent to a new issuer)"})
		default:
			next.ClientSecret = ""
		}
	}
	if next.SPKey == SecretPlaceholder {
		next.SPKey = ""
		if next.Type == config.ProviderSAML && old.Type == config.ProviderSAML {
			next.SPKey = old.SPKey
		}
	}
	for i := range next.Users {
		u := &next.Users[i]
		if u.PasswordHash != SecretPlaceholder && u.PasswordHash != "" {
			continue
		}
		u.PasswordHash = ""
		for _, ou := range old.Users {
			if ou.Username == u.Username {
				u.PasswordHash = ou.PasswordHash
			}
		}
	}
	return problems
}

// changeProblems is an apply failure that is a list of problems with the
// new document (such as a secret to enter again): commit reports them
// together with validation's.
func changeProblems(ps config.Problems) *Error {
	e := Errorf(http.StatusUnprocessableEntity, CodeInvalidMappings, "The change was not saved: %d problem(s) to fix.", len(ps))
	e.Cause = ps
	return e
}

func FindProvider(m *config.Mappings, id string) int {
	for i := range m.Providers {
		if m.Providers[i].ID == id {
			return i
		}
	}
	return -1
}

func FindPool(m *config.Mappings, key string) int {
	for i := range m.Pools {
		if m.Pools[i].ID == key || m.Pools[i].Name == key {
			return i
		}
	}
	return -1
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

func providerETag(p config.Provider) string { return etagOf(RedactProvider(p)) }
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
func (im ifMatch) check(current string) *Error {
	if im == "*" {
		return nil
	}
	for _, tag := range strings.Split(string(im), ",") {
		if strings.TrimSpace(tag) == current {
			return nil
		}
	}
	e := Errorf(http.StatusPreconditionFailed, CodePreconditionFailed, "Someone changed this since you read it. Reload it, reapply your change and try again.")
	e.Cause = fmt.Errorf("If-Match %s, current %s", im, current)
	return e
}

// requireIfMatch reads If-Match (API) or the form's etag field (UI).
func requireIfMatch(c *gin.Context) (ifMatch, *Error) {
	v := c.GetHeader("If-Match")
	if v == "" && !isAdminAPI(c) {
		v = c.PostForm("etag")
	}
	if v == "" {
		return "", Errorf(http.StatusPreconditionRequired, CodePreconditionRequired, "Send If-Match with the ETag you read, so a concurrent change is not overwritten.")
	}
	if len(v) > 512 {
		return "", Errorf(http.StatusBadRequest, CodeInvalidRequest, "If-Match is too long.")
	}
	return ifMatch(v), nil
}

// problemsError is a refused change: every problem found, each at its path.
type problemsError struct {
	*Error
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
	apply   func(m *config.Mappings, version int64) *Error
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
func (s *Server) commit(ctx context.Context, who *adminPrincipal, ch change) (*commitResult, *problemsError) {
	wrap := func(e *Error) *problemsError { return &problemsError{Error: e} }
	for attempt := 0; attempt < maxCommitAttempts; attempt++ {
		cur, _, err := s.loadDoc(ctx, 0)
		if err != nil {
			return nil, wrap(Internal(err))
		}
		m := CloneMappings(cur.m)
		var pending config.Problems // problems apply found; reported with validation's
		if e := ch.apply(&m, cur.version); e != nil {
			if e.Code != CodeInvalidMappings || !errors.As(e.Cause, &pending) {
				return nil, wrap(e)
			}
		}
		if e := s.checkAdminProviders(who, cur.m, m); e != nil {
			return nil, wrap(e)
		}
		snap, problems, err := s.CheckMappings(ctx, m)
		if problems = append(pending, problems...); len(problems) > 0 {
			SortProblemsByPath(problems)
			e := Errorf(http.StatusUnprocessableEntity, CodeInvalidMappings, "The change was not saved: %d problem(s) to fix.", len(problems))
			return nil, &problemsError{Error: e, Problems: problems}
		}
		if err != nil {
			e := Errorf(http.StatusUnprocessableEntity, CodeInvalidMappings, "The change was not saved: a provider could not be set up.")
			e.Cause = err
			return nil, wrap(e)
		}
		doc, err := json.Marshal(m)
		if err != nil {
			return nil, wrap(Internal(err))
		}
		sealed, err := s.box.Seal(doc, []byte("config"))
		if err != nil {
			return nil, wrap(Internal(err))
		}
		entry := WithAuditMeta(ctx, store.AuditEntry{Kind: store.AuditAdminChange, Actor: who.Actor, Provider: who.Provider,
			Subject: who.Subject, Pool: ch.poolID(cur.m, m), Role: who.Role, Result: store.AuditOK, Reason: ch.summary})
		v, err := s.store.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: sealed, Hash: s.box.Digest(doc),
			Author: who.Display, Source: SourceAdmin, Comment: ch.summary}, cur.version, entry)
		if errors.Is(err, store.ErrConflict) {
			s.backoff(ctx, attempt)
			continue
		}
		if err != nil {
			return nil, wrap(Internal(err))
		}
		snap.Version = v
		s.SwapSnapshot(snap)
		LogFrom(ctx, s.log).Info("configuration changed", "version", v, "actor", who.Actor, "change", ch.summary)
		return &commitResult{version: v, m: m}, nil
	}
	return nil, wrap(Errorf(http.StatusConflict, CodeConflict, "Too many changes at once; try again."))
}

// poolID is the id of the pool the change touches, for its audit entry:
// ch.pool, or ch.poolKey looked up before the change (a rename or a
// delete) and then after it.
func (ch change) poolID(before, after config.Mappings) string {
	if ch.pool != "" || ch.poolKey == "" {
		return ch.pool
	}
	for _, m := range []*config.Mappings{&before, &after} {
		if i := FindPool(m, ch.poolKey); i >= 0 {
			return m.Pools[i].ID
		}
	}
	return ""
}

// checkAdminProviders refuses a change to (or deletion of) a provider that
// admins sign in with unless the caller is an owner: otherwise an editor
// could make themselves an owner, e.g. by giving a static user the owners'
// group or pointing the provider at an IdP they run.
func (s *Server) checkAdminProviders(who *adminPrincipal, before, after config.Mappings) *Error {
	if who.can(config.AdminOwner) {
		return nil
	}
	for _, id := range s.cfg.Admin.Providers {
		var a, b *config.Provider
		if i := FindProvider(&before, id); i >= 0 {
			a = &before.Providers[i]
		}
		if i := FindProvider(&after, id); i >= 0 {
			b = &after.Providers[i]
		}
		if !sameJSON(a, b) {
			return Errorf(http.StatusForbidden, CodeForbidden,
				"Admins sign in with the provider %q, so only an owner can change or delete it; your admin role is %s.", Truncate(id, 64), who.Role)
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

// checkMappings validates a document and builds the snapshot a reload
// would build from it.
func (s *Server) CheckMappings(ctx context.Context, m config.Mappings) (*Snapshot, config.Problems, error) {
	f := *s.cfg
	f.Providers, f.Pools = m.Providers, m.Pools
	f.ApplyDefaults()
	if problems := f.Validate(); len(problems) > 0 {
		SortProblemsByPath(problems)
		return nil, problems, nil
	}
	snap, err := s.BuildSnapshot(ctx, 0, m)
	var ps config.Problems
	if errors.As(err, &ps) {
		return nil, ps, nil
	}
	return snap, nil, err
}

func SortProblemsByPath(ps config.Problems) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Path < ps[j-1].Path; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// swapSnapshot makes a committed version live on this replica at once
// (others follow within reload_interval); an older one never replaces a newer.
func (s *Server) SwapSnapshot(next *Snapshot) {
	for {
		cur := s.snap.Load()
		if cur != nil && cur.Version >= next.Version {
			return
		}
		if s.snap.CompareAndSwap(cur, next) {
			return
		}
	}
}

// backoff waits a little, more on each attempt, with jitter from s.rand.
func (s *Server) backoff(ctx context.Context, attempt int) {
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

// adminProblem is one validation problem in API answers.
type adminProblem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// failChange answers a refused change: problems as a list in JSON.
func (s *Server) failChange(c *gin.Context, pe *problemsError) {
	if len(pe.Problems) == 0 {
		s.fail(c, pe.Error)
		return
	}
	LogFrom(c.Request.Context(), s.log).Info("admin change refused", "code", pe.Code, "problems", len(pe.Problems))
	out := make([]adminProblem, len(pe.Problems))
	for i, p := range pe.Problems {
		out[i] = adminProblem{Path: p.Path, Message: p.Message}
	}
	noCache(c)
	c.AbortWithStatusJSON(pe.Status, gin.H{"code": pe.Code, "message": pe.Message, "request_id": requestID(c), "problems": out})
}
