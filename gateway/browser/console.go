package browser

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
)

// consoleLifetime bounds a console ticket: the page's credentials can open
// the console for this long (AWS sign-in tokens last 15 minutes too).
const consoleLifetime = 15 * time.Minute

// consoleTicket keeps the credentials the page shows, sealed, for the
// "Open AWS console" button; the ticket in the form names them. It returns
// "" (no button) when they cannot be kept.
func (s *Browser) consoleTicket(c *gin.Context, creds *exchange.Credentials) string {
	ttl := min(consoleLifetime, creds.Expiration.Sub(s.now()))
	if ttl <= 0 || creds.SessionToken == "" {
		return ""
	}
	ticket := s.kit.RandomHex(32)
	if err := s.core.PutSealed(c.Request.Context(), kindConsoleTicket, ticket, creds, ttl); err != nil {
		core.LogFrom(c.Request.Context(), s.log).Warn("console ticket not stored", "error", err.Error())
		return ""
	}
	return ticket
}

// consoleButton is POST /console: fedgate asks the federation endpoint for
// a sign-in token with the page's credentials and forwards the browser to
// the console. The ticket is a secret only the credentials page carries, so it
// also serves as the form's CSRF token.
func (s *Browser) consoleButton(c *gin.Context) {
	if !s.kit.PostedForm(c) {
		return
	}
	ticket := c.PostForm("ticket")
	expired := core.Errorf(http.StatusBadRequest, core.CodeSessionExpired, "These credentials can no longer open the console. Sign in again.")
	var creds exchange.Credentials
	if e := s.core.LookupSealed(c.Request.Context(), kindConsoleTicket, ticket, &creds, expired); e != nil {
		s.kit.Fail(c, e)
		return
	}
	loginURL, err := s.console.LoginURL(c.Request.Context(), exchange.ConsoleRequest{
		Credentials: &creds, Duration: creds.Expiration.Sub(s.now()),
		Issuer: s.cfg.Server.PublicURL + "/", Destination: s.cfg.Console.Destination,
	})
	if err != nil {
		s.kit.Fail(c, core.NewError(http.StatusBadGateway, core.CodeUpstream, "The AWS sign-in service did not answer. Try again in a moment.", err))
		return
	}
	core.LogFrom(c.Request.Context(), s.log).Info("console sign-in", "role", creds.RoleARN)
	// Not a redirect: the page's CSP (form-action 'self') would stop a form
	// post from being redirected to AWS. The Refresh header forwards the
	// browser at once; the page's link is the fallback.
	c.Header("Refresh", "0; url="+loginURL)
	s.kit.Render(c, http.StatusOK, "cli_console", consolePage{
		Page: httpkit.Page{Title: "Opening the AWS console", RequestID: httpkit.RequestID(c)}, URL: loginURL, Role: creds.RoleARN,
	}, true)
}

type consolePage struct {
	httpkit.Page
	URL, Role string
}
