package signin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/idp"
)

type loginPage struct {
	httpkit.Page
	Provider, Pool, Action, State, Error, Username string
	Demo                                           bool
}

// renderLogin shows a pool's password form for the flow of state.
func (s *Service) renderLogin(c *gin.Context, status int, pool *core.Pool, prov *core.Provider, state, msg, username string) {
	s.kit.Render(c, status, "login", loginPage{
		Page:     httpkit.Page{Title: "Sign in", RequestID: httpkit.RequestID(c)},
		Provider: prov.DisplayName(), Pool: pool.Cfg.DisplayName,
		Action: loginAction(pool, prov),
		State:  state, Error: msg, Username: username, Demo: idp.IsDemo(prov.Provider),
	}, true)
}

// passwordLogin checks a pool's password form: POST /login/:pool/:provider.
func (s *Service) passwordLogin(c *gin.Context) {
	pool, prov, e := s.target(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	core.NoteAudit(c.Request.Context(), core.AuditNote{Pool: pool.Cfg.ID, Provider: prov.Cfg.ID})
	s.PasswordLogin(c, pool, prov, func(f *Flow) bool { return f.Pool == pool.Cfg.ID && f.Provider == prov.Cfg.ID })
}

// PasswordLogin finishes a posted password form of a flow that belongs
// here: a wrong password shows the form again (a new flow of the same
// kind), a right one completes the sign-in.
func (s *Service) PasswordLogin(c *gin.Context, pool *core.Pool, prov *core.Provider, belongs func(*Flow) bool) {
	form := s.checkPasswordForm(c, prov, belongs)
	if form == nil {
		return
	}
	f := form.flow
	k, e := s.continuation(f)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	if form.ident == nil {
		var data any
		if len(f.Data) > 0 {
			data = f.Data
		}
		state, _, err := s.Begin(c, f.Kind, pool, prov, data)
		if err != nil {
			s.kit.Fail(c, core.Internal(err))
			return
		}
		k.PasswordForm(c, http.StatusUnauthorized, pool, prov, state, form.refusal.Message, form.username)
		return
	}
	k.Complete(c, f, pool, prov, form.ident)
}

// passwordForm is a posted password form after its checks.
type passwordForm struct {
	flow     *Flow
	ident    *idp.Identity // nil: wrong username or password
	username string
	refusal  *core.Error // why ident is nil
}

// checkPasswordForm takes a posted password form as far as the password:
// same origin, a live flow of this browser that belongs here, a provider
// that takes passwords, sane field sizes. On anything but a wrong password
// it fails the request itself and returns nil; a wrong password comes back
// (logged and noted for the audit) so the caller can show the form again.
func (s *Service) checkPasswordForm(c *gin.Context, prov *core.Provider, belongs func(*Flow) bool) *passwordForm {
	if !s.kit.PostedForm(c) {
		return nil
	}
	f, e := s.takeFlow(c, c.PostForm("state"))
	if e != nil {
		s.kit.Fail(c, e)
		return nil
	}
	if !belongs(f) {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "This sign-in belongs to another pool or provider. Start again."))
		return nil
	}
	pl, ok := prov.Provider.(idp.PasswordLogin)
	if !ok {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeUnknownProvider, "This identity provider does not take passwords."))
		return nil
	}
	username, password := c.PostForm("username"), c.PostForm("password")
	if len(username) > maxFormField || len(password) > maxFormField {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "Username or password is too long."))
		return nil
	}
	ident, err := pl.Authenticate(c.Request.Context(), username, password)
	if err != nil {
		core.LogFrom(c.Request.Context(), s.kit.Log()).Warn("password sign-in refused", "provider", prov.Cfg.ID, "kind", f.Kind, "cause", err.Error())
		refusal := core.FromIdP(err)
		core.NoteAudit(c.Request.Context(), core.AuditNote{Provider: prov.Cfg.ID})
		core.NoteRefusal(c.Request.Context(), refusal) // the form is shown again: no Fail records it
		return &passwordForm{flow: f, username: username, refusal: refusal}
	}
	return &passwordForm{flow: f, ident: ident, username: username}
}
