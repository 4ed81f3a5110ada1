package browser

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
)

type credentialsPage struct {
	httpkit.Page
	RoleARN, AssumedRoleARN, IdentityID string
	Pool                                string
	ExpiresISO, ExpiresHuman, ExpiresIn string
	Formats                             []credentialFormat
	ConsoleTicket                       string // the "Open AWS console" button
}

// credentialFormat is one way of writing the credentials down, with a tab
// of its own on the page.
type credentialFormat struct {
	ID, Label, Hint, Text string
}

// credentialFormats are the credentials in every format the page offers.
func credentialFormats(creds *exchange.Credentials, js string) []credentialFormat {
	return []credentialFormat{
		{"bash", "bash / zsh", "Paste into a terminal: the AWS CLI and SDKs started from it use these credentials.", exchange.ExportLines(creds)},
		{"fish", "fish", "Paste into a fish shell.", exchange.FishLines(creds)},
		{"powershell", "PowerShell", "Paste into PowerShell.", exchange.PowerShellLines(creds)},
		{"cmd", "Windows cmd", "Paste into a Command Prompt window.", exchange.CmdLines(creds)},
		{"file", "~/.aws/credentials", "Add to ~/.aws/credentials, then use --profile fedgate.", exchange.CredentialsFileBlock(creds, "fedgate")},
		{"json", "JSON", "The JSON API's shape, for scripts.", js},
	}
}

// showCredentials re-evaluates the rules (they may have changed since the
// portal was drawn), vends and renders the no-store credentials page.
func (s *Browser) showCredentials(c *gin.Context, p *core.Principal, roleARN string) {
	creds, id, e := s.core.Grant(c.Request.Context(), p, roleARN, 0)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	js, err := json.MarshalIndent(core.WireCredentials(creds, id), "", "  ")
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	exp := creds.Expiration.UTC()
	s.kit.Render(c, http.StatusOK, "credentials", credentialsPage{
		Page:    httpkit.Page{Title: "Your AWS credentials", RequestID: httpkit.RequestID(c)},
		RoleARN: creds.RoleARN, AssumedRoleARN: creds.AssumedRoleARN, IdentityID: id, Pool: p.Pool.Cfg.DisplayName,
		ExpiresISO: exp.Format(time.RFC3339), ExpiresHuman: exp.Format("2006-01-02 15:04:05 UTC"),
		ExpiresIn:     httpkit.HumanDuration(exp.Sub(s.now())),
		Formats:       credentialFormats(creds, string(js)),
		ConsoleTicket: s.consoleTicket(c, creds),
	}, true)
}

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
	s.openConsole(c, &creds)
}

// openConsole forwards the browser to the AWS console signed in with creds.
func (s *Browser) openConsole(c *gin.Context, creds *exchange.Credentials) {
	loginURL, err := s.console.LoginURL(c.Request.Context(), exchange.ConsoleRequest{
		Credentials: creds, Duration: creds.Expiration.Sub(s.now()),
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
