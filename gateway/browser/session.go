package browser

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/idp"
)

// browserSession is a person signed in at the browser: what the portal
// needs to evaluate the rules of every pool that accepts their provider,
// for server.session_ttl.
type browserSession struct {
	// Pool is the pool the sign-in went through (the picker view's).
	Pool, Provider, Subject string
	Claims                  map[string]any
	RawToken                string
	CSRF                    string
	Name                    string // how pages name the person
	Expires                 time.Time
}

// completeSignIn opens the portal: the person's sign-in becomes a session
// and the browser goes to the portal's view of the pool it signed in to.
// The redirect keeps the sign-in answer out of the browser's history, so
// Back from a later page lands on the portal, never on a spent sign-in.
// A pool whose rules give no role is a clear refusal.
func (s *Browser) completeSignIn(c *gin.Context, p *core.Principal) {
	if d := p.Entitlements(); len(d.Grants) == 0 {
		core.LogFrom(c.Request.Context(), s.log).Info("no rule matched", "pool", p.Pool.Cfg.ID, "provider", p.Provider.Cfg.ID, "subject", p.Ident.Subject)
		e := core.NoRoleError(p)
		s.core.AuditRefusal(c.Request.Context(), p, "", e)
		s.kit.Fail(c, e)
		return
	}
	ttl := s.cfg.Server.SessionTTL.D()
	sess := browserSession{
		Pool: p.Pool.Cfg.ID, Provider: p.Provider.Cfg.ID, Subject: p.Ident.Subject,
		Claims: p.Ident.Claims, RawToken: p.Ident.RawToken, CSRF: s.kit.RandomHex(24),
		Name: p.DisplayName(), Expires: s.now().Add(ttl).UTC(),
	}
	id := s.kit.RandomHex(32)
	if err := s.core.PutSealed(c.Request.Context(), kindSession, id, sess, ttl); err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	// A new sign-in replaces this browser's earlier session.
	if old := s.kit.Cookie(c, sessCookie); old != "" && len(old) <= 128 {
		_ = s.core.Store().DeleteEphemeral(c.Request.Context(), kindSession, old)
	}
	s.kit.SetCookie(c, sessCookie, id, int(ttl.Seconds()))
	httpkit.NoCache(c)
	c.Redirect(http.StatusSeeOther, "/portal?pool="+url.QueryEscape(p.Pool.Cfg.Name))
}

// sessionExpired is the refusal of a request whose portal session is
// missing, expired or forged.
func sessionExpired() *core.Error {
	return core.Errorf(http.StatusUnauthorized, core.CodeSessionExpired, "Your sign-in has expired. Sign in again.")
}

// session is this browser's portal session and its key.
func (s *Browser) session(c *gin.Context) (*browserSession, string, *core.Error) {
	id := s.kit.Cookie(c, sessCookie)
	var sess browserSession
	if e := s.core.LookupSealed(c.Request.Context(), kindSession, id, &sess, sessionExpired()); e != nil {
		return nil, "", e
	}
	return &sess, id, nil
}

// postedSession opens a form posted from a portal page: same origin, the
// session, and its CSRF token. On false it has answered the refusal.
func (s *Browser) postedSession(c *gin.Context) (*browserSession, string, bool) {
	if !s.kit.PostedForm(c) {
		return nil, "", false
	}
	sess, id, e := s.session(c)
	if e != nil {
		s.kit.Fail(c, e)
		return nil, "", false
	}
	if !httpkit.EqualSecret(c.PostForm("csrf"), sess.CSRF) {
		s.kit.Fail(c, httpkit.WrongFormToken())
		return nil, "", false
	}
	return sess, id, true
}

// principal is the session's person in pool key (empty: the pool the
// sign-in went through), as the live configuration has it.
func (s *Browser) principal(c *gin.Context, sess *browserSession, key string) (*core.Principal, *core.Error) {
	if key == "" {
		key = sess.Pool
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: core.Truncate(key, 64), Provider: sess.Provider, Subject: sess.Subject})
	pool := s.core.Snapshot().Pools[key]
	if pool == nil || pool.Provider(sess.Provider) == nil {
		return nil, core.Errorf(http.StatusForbidden, core.CodeRoleNotEntitled, "Your sign-in does not open that pool.")
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: pool.Cfg.ID})
	return sess.principalIn(pool), nil
}

// principalIn is the session's person signed in to pool.
func (sess *browserSession) principalIn(pool *core.Pool) *core.Principal {
	return &core.Principal{Pool: pool, Provider: pool.Provider(sess.Provider),
		Ident: &idp.Identity{Provider: sess.Provider, Subject: sess.Subject, Claims: sess.Claims, RawToken: sess.RawToken}}
}

// signOut ends the portal session; credentials already vended keep
// working until they expire.
func (s *Browser) signOut(c *gin.Context) {
	_, id, ok := s.postedSession(c)
	if !ok {
		return
	}
	if err := s.core.Store().DeleteEphemeral(c.Request.Context(), kindSession, id); err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	s.kit.ClearCookie(c, sessCookie)
	core.LogFrom(c.Request.Context(), s.log).Info("browser sign-out")
	c.Redirect(http.StatusSeeOther, "/?signed_out=1")
}
