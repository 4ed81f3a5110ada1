package cli

import (
	"errors"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// The device authorization grant (RFC 8628): /cli/device for the CLI, and
// the /device pages where a person types the code and approves.

// userCodeAlphabet is RFC 8628 §6.1's: consonants only (no words, no
// 0/O or 1/I look-alikes), 20^8 ≈ 2^34.6 codes.
const (
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLength   = 8
)

// device is a pending device authorization (RFC 8628).
type device struct {
	UserCode, Pool, Provider, Client string
	ExpiresAt                        int64 // unix seconds
	Interval                         int   // seconds
}

// deviceResult is the person's decision on a device code.
type deviceResult struct {
	Approved bool
	// Refusal is the public reason when the gateway refused the sign-in
	// (no rule gives a role); empty when the person denied it.
	Refusal string `json:",omitempty"`
	Draft   draft
}

// deviceApproval is the approve page's state, bound to the browser.
type deviceApproval struct {
	DeviceCode, UserCode, CSRF string
	Draft                      draft
}

// deviceAuthorization is POST /cli/device {pool, provider, client_name}.
func (s *CLI) deviceAuthorization(c *gin.Context) {
	in, e := input(c, "pool", "provider", "client_name", "client_id", "scope")
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	pool, prov, e := s.target(in["pool"], in["provider"])
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	if ok, wait := s.deviceBySource.Take(httpkit.SourceKey(c.ClientIP())); !ok {
		s.kit.Fail(c, httpkit.OverBudget(c, wait, "Too many device codes were asked for from your address."))
		return
	}
	ttl, interval := s.cfg.CLI.DeviceCodeTTL.D(), s.cfg.CLI.DevicePollInterval.D()
	ctx := c.Request.Context()
	deviceCode := s.randomB64(32)
	var userCode string
	for attempt := 0; ; attempt++ {
		userCode = s.newUserCode()
		err := s.core.PutSealed(ctx, kindUserCode, userCode, deviceCode, ttl)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || attempt == 3 {
			s.kit.Fail(c, core.Internal(err))
			return
		}
	}
	dev := device{UserCode: userCode, Pool: pool.Cfg.ID, Provider: prov.Cfg.ID, Client: cleanClientName(in["client_name"]),
		ExpiresAt: s.now().Add(ttl).Unix(), Interval: int(interval.Seconds())}
	if err := s.core.PutSealed(ctx, kindDevice, deviceCode, dev, ttl+deviceGrace); err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	verify := s.cfg.Server.PublicURL + "/device"
	core.LogFrom(ctx, s.log).Info("device authorization started", "pool", pool.Cfg.ID, "provider", prov.Cfg.ID)
	httpkit.WriteJSON(c, http.StatusOK, map[string]any{
		"device_code":               deviceCode,
		"user_code":                 displayUserCode(userCode),
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?user_code=" + url.QueryEscape(displayUserCode(userCode)),
		"expires_in":                int(ttl.Seconds()),
		"interval":                  dev.Interval,
	})
}

// newUserCode draws userCodeLength letters uniformly (rejection sampling).
func (s *CLI) newUserCode() string {
	const n = len(userCodeAlphabet)
	limit := byte(256 - 256%n)
	out := make([]byte, 0, userCodeLength)
	buf := make([]byte, 1)
	for len(out) < userCodeLength {
		if _, err := s.rand.Read(buf); err != nil {
			panic("fedgate: random source failed: " + err.Error())
		}
		if buf[0] < limit {
			out = append(out, userCodeAlphabet[int(buf[0])%n])
		}
	}
	return string(out)
}

func displayUserCode(code string) string { return code[:4] + "-" + code[4:] }

// normalizeUserCode accepts what a person types: any case, with or without
// the dash or spaces. It reports false for anything that cannot be a code.
func normalizeUserCode(in string) (string, bool) {
	if len(in) > 32 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(in) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case r < 128 && strings.ContainsRune(userCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != userCodeLength {
		return "", false
	}
	return b.String(), true
}

// pollDevice answers one poll of the device grant, per RFC 8628 §3.5.
func (s *CLI) pollDevice(c *gin.Context, deviceCode string) (*draft, *oauthError) {
	ctx := c.Request.Context()
	if deviceCode == "" || len(deviceCode) > 128 {
		return nil, &oauthError{Code: "invalid_request", Description: "device_code is required."}
	}
	var dev device
	if err := s.core.GetSealed(ctx, kindDevice, deviceCode, &dev); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, &oauthError{Code: "invalid_grant", Description: "The device code is unknown or was already used. Run fedgate login again."}
		}
		return nil, &oauthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "Something went wrong on our side.", Cause: err}
	}
	if !s.now().Before(time.Unix(dev.ExpiresAt, 0)) {
		return nil, &oauthError{Code: "expired_token", Description: "The device code has expired. Run fedgate login again."}
	}
	// One poll per interval: a live marker means the last poll was too recent.
	interval := time.Duration(dev.Interval) * time.Second
	if err := s.store.PutEphemeral(ctx, kindDevicePoll, deviceCode, []byte{}, s.now().Add(interval)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, &oauthError{Code: "slow_down", Description: fmt.Sprintf("Poll at most once every %d seconds.", dev.Interval)}
		}
		return nil, &oauthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "Something went wrong on our side.", Cause: err}
	}
	var res deviceResult
	if err := s.core.TakeSealed(ctx, kindDeviceResult, deviceCode, &res); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, &oauthError{Code: "authorization_pending", Description: "Waiting for the person to approve in the browser."}
		}
		return nil, &oauthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "Something went wrong on our side.", Cause: err}
	}
	// The decision is taken once; the device code is spent either way.
	if err := s.store.DeleteEphemeral(ctx, kindDevice, deviceCode); err != nil {
		return nil, &oauthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "Something went wrong on our side.", Cause: err}
	}
	if !res.Approved {
		why := "The sign-in was denied in the browser."
		if res.Refusal != "" {
			why = res.Refusal
		}
		return nil, &oauthError{Code: "access_denied", Description: why}
	}
	return &res.Draft, nil
}

type devicePageData struct {
	httpkit.Page
	CSRF, UserCode, Error string
}

// devicePage is GET /device: where a person types the code the CLI shows.
func (s *CLI) devicePage(c *gin.Context) {
	code := c.Query("user_code")
	if len(code) > 32 {
		code = ""
	}
	s.renderDevicePage(c, http.StatusOK, code, "")
}

func (s *CLI) renderDevicePage(c *gin.Context, status int, code, msg string) {
	csrf := s.kit.Cookie(c, csrfCookie)
	if len(csrf) != 48 {
		csrf = s.kit.RandomHex(24)
		s.kit.SetCookie(c, csrfCookie, csrf, int(deviceCSRFLifetime.Seconds()))
	}
	s.kit.Render(c, status, "cli_device", devicePageData{
		Page: httpkit.Page{Title: "Connect the fedgate CLI", RequestID: httpkit.RequestID(c)}, CSRF: csrf, UserCode: code, Error: msg,
	}, true)
}

// deviceEnter is POST /device: the typed code leads to the sign-in of the
// device's pool. Entries are rate-limited per source and overall.
func (s *CLI) deviceEnter(c *gin.Context) {
	if !s.kit.PostedForm(c) {
		return
	}
	if !httpkit.EqualSecret(c.PostForm("csrf"), s.kit.Cookie(c, csrfCookie)) {
		s.kit.Fail(c, httpkit.WrongFormToken())
		return
	}
	if !s.userCodeBySource.Allow(httpkit.SourceKey(c.ClientIP())) || !s.userCodeAll.Allow("all") {
		c.Header("Retry-After", "60")
		core.LogFrom(c.Request.Context(), s.log).Warn("user code entry rate-limited", "remote", c.ClientIP())
		e := core.Errorf(http.StatusTooManyRequests, CodeTooManyAttempts, "Too many codes were tried. Wait a minute, then type the code your terminal shows.")
		e.Throttled = true
		s.kit.Fail(c, e)
		return
	}
	typed := c.PostForm("user_code")
	code, ok := normalizeUserCode(typed)
	var deviceCode string
	if ok {
		if err := s.core.GetSealed(c.Request.Context(), kindUserCode, code, &deviceCode); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				s.kit.Fail(c, core.Internal(err))
				return
			}
			ok = false
		}
	}
	if !ok {
		core.LogFrom(c.Request.Context(), s.log).Info("unknown user code entered", "remote", c.ClientIP())
		s.renderDevicePage(c, http.StatusBadRequest, core.Truncate(typed, 16), "That code is not valid or has expired. Check your terminal and try again.")
		return
	}
	var dev device
	if err := s.core.GetSealed(c.Request.Context(), kindDevice, deviceCode, &dev); err != nil {
		s.renderDevicePage(c, http.StatusBadRequest, "", "That code has expired. Run fedgate login again.")
		return
	}
	// Not a redirect to the IdP: the page's CSP (form-action 'self') stops
	// a form post from being redirected to another origin. A one-time
	// ticket, bound to this browser, continues with a plain navigation.
	ticket := s.kit.RandomHex(32)
	start := deviceStart{Flow: flow{DeviceCode: deviceCode, UserCode: code, Client: dev.Client}, Binding: httpkit.Digest(s.kit.Cookie(c, csrfCookie))}
	if err := s.core.PutSealed(c.Request.Context(), kindDeviceStart, ticket, start, deviceStartLifetime); err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	next := "/device/start?ticket=" + ticket
	c.Header("Refresh", "0; url="+next)
	s.kit.Render(c, http.StatusOK, "cli_continue", continuePage{Page: httpkit.Page{Title: "Sign in", RequestID: httpkit.RequestID(c)}, URL: next}, true)
}

// deviceStart is a code accepted on the /device page, waiting for the
// browser to continue to the sign-in.
type deviceStart struct {
	Flow    flow
	Binding string // digest of the browser's CSRF cookie
}

type continuePage struct {
	httpkit.Page
	URL string
}

// deviceContinue is GET /device/start?ticket=: the sign-in of the device's
// pool, in the browser that entered the code.
func (s *CLI) deviceContinue(c *gin.Context) {
	expired := core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "This step has expired or was already used. Type the code again.")
	ticket := c.Query("ticket")
	var st deviceStart
	if ticket == "" || len(ticket) > 128 {
		s.kit.Fail(c, expired)
		return
	}
	if err := s.core.TakeSealed(c.Request.Context(), kindDeviceStart, ticket, &st); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.kit.Fail(c, expired)
			return
		}
		s.kit.Fail(c, core.Internal(err))
		return
	}
	if !httpkit.EqualSecret(httpkit.Digest(s.kit.Cookie(c, csrfCookie)), st.Binding) {
		s.kit.Fail(c, core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "This step was started in another browser. Type the code again here."))
		return
	}
	var dev device
	if err := s.core.GetSealed(c.Request.Context(), kindDevice, st.Flow.DeviceCode, &dev); err != nil {
		s.kit.Fail(c, expired)
		return
	}
	pool, prov, e := s.target(dev.Pool, dev.Provider)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.signin.Send(c, kindSignIn, pool, prov, &st.Flow)
}

type approvePageData struct {
	httpkit.Page
	CSRF, UserCode, Client, Subject, Provider, Pool, Expires string
}

// showDeviceApproval asks the signed-in person to confirm the device.
func (s *CLI) showDeviceApproval(c *gin.Context, f *flow, p *core.Principal, d draft) {
	id, csrf := s.kit.RandomHex(32), s.kit.RandomHex(24)
	a := deviceApproval{DeviceCode: f.DeviceCode, UserCode: f.UserCode, CSRF: csrf, Draft: d}
	if err := s.core.PutSealed(c.Request.Context(), kindDeviceApproval, id, a, approvalLifetime); err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	s.kit.SetCookie(c, deviceCookie, id, int(approvalLifetime.Seconds()))
	client := f.Client
	if client == "" {
		client = "a device"
	}
	s.kit.Render(c, http.StatusOK, "cli_approve", approvePageData{
		Page: httpkit.Page{Title: "Approve the fedgate CLI", RequestID: httpkit.RequestID(c)},
		CSRF: csrf, UserCode: displayUserCode(f.UserCode), Client: client, Subject: p.DisplayName(),
		Provider: p.Provider.DisplayName(), Pool: p.Pool.Cfg.DisplayName, Expires: httpkit.HumanDuration(s.sessionExpiry(&d).Sub(s.now())),
	}, true)
}

type doneData struct {
	httpkit.Page
	Heading, Message string
	Approved         bool
}

// deviceApprove is POST /device/approve: the person's decision.
func (s *CLI) deviceApprove(c *gin.Context) {
	if !s.kit.PostedForm(c) {
		return
	}
	ctx := c.Request.Context()
	expired := core.Errorf(http.StatusBadRequest, core.CodeFlowExpired, "This approval has expired or was already answered. Run fedgate login again.")
	id := s.kit.Cookie(c, deviceCookie)
	var a deviceApproval
	if e := s.core.LookupSealed(ctx, kindDeviceApproval, id, &a, expired); e != nil {
		s.kit.Fail(c, e)
		return
	}
	if !httpkit.EqualSecret(c.PostForm("csrf"), a.CSRF) {
		s.kit.Fail(c, httpkit.WrongFormToken())
		return
	}
	// Take both: the approval page and the user code work once.
	if err := s.core.TakeSealed(ctx, kindDeviceApproval, id, &a); err != nil {
		s.kit.Fail(c, expired)
		return
	}
	s.kit.ClearCookie(c, deviceCookie)
	var deviceCode string
	if err := s.core.TakeSealed(ctx, kindUserCode, a.UserCode, &deviceCode); err != nil || deviceCode != a.DeviceCode {
		s.kit.Fail(c, expired)
		return
	}
	approved := c.PostForm("decision") == "approve"
	var dev device
	if err := s.core.GetSealed(ctx, kindDevice, a.DeviceCode, &dev); err != nil || !s.now().Before(time.Unix(dev.ExpiresAt, 0)) {
		s.kit.Fail(c, expired)
		return
	}
	ttl := time.Unix(dev.ExpiresAt, 0).Add(deviceGrace).Sub(s.now()) // > deviceGrace: checked just above
	if err := s.core.PutSealed(ctx, kindDeviceResult, a.DeviceCode, deviceResult{Approved: approved, Draft: a.Draft}, ttl); err != nil {
		if errors.Is(err, store.ErrConflict) {
			s.kit.Fail(c, expired)
			return
		}
		s.kit.Fail(c, core.Internal(err))
		return
	}
	core.LogFrom(ctx, s.log).Info("device authorization answered", "approved", approved, "pool", a.Draft.Pool, "provider", a.Draft.Provider, "subject", a.Draft.Subject)
	data := doneData{Page: httpkit.Page{Title: "Done", RequestID: httpkit.RequestID(c)}, Approved: approved,
		Heading: "The fedgate CLI is signed in", Message: "You can close this window and return to your terminal."}
	if !approved {
		data.Heading, data.Message = "Sign-in denied", "The fedgate CLI was not signed in. If you did not start this, nothing else is needed."
	}
	s.kit.Render(c, http.StatusOK, "cli_done", data, true)
}
