package browser

import (
	"cmp"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/exchange/arn"
	"fedgate/exchange/rules"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
)

// The access portal: after one sign-in, every role the rules of every pool
// that accepts the person's provider give them, grouped by AWS account.
// The role picker is its view of one pool.

type portalPage struct {
	httpkit.Page
	Who, Provider            string
	ExpiresISO, ExpiresHuman string
	ExpiresIn                string
	CSRF                     string
	GatewayURL               string
	// Query filters the roles (the search box, also without script).
	Query string
	// Focus is the pool of the picker view, when the page shows one pool.
	Focus, FocusDisplay string
	Heading             string
	Accounts            []accountView
	Shown, Total, Pools int
}

type accountView struct {
	ID, Alias string
	Roles     []portalRole
}

type portalRole struct {
	PoolID, PoolName, PoolDisplay string
	ARN, Name, Rule, Duration     string
	Profile, Snippet              string
	Search                        string // lower-case text the filter matches
	Key                           string // unique on the page, for element ids
}

// portal is GET /portal: the person's roles, or the start page when this
// browser has no session.
func (s *Browser) portal(c *gin.Context) {
	sess, _, e := s.session(c)
	if e != nil {
		httpkit.NoCache(c)
		c.Redirect(http.StatusSeeOther, "/?signed_out=expired")
		return
	}
	snap := s.core.Snapshot()
	data := portalPage{
		Page: httpkit.Page{Title: "Your AWS access", RequestID: httpkit.RequestID(c)},
		Who:  sess.Name, CSRF: sess.CSRF, GatewayURL: s.cfg.Server.PublicURL,
		Query: strings.TrimSpace(c.Query("q")),
	}
	if p := snap.Providers[sess.Provider]; p != nil {
		data.Provider = p.DisplayName()
	}
	if !sess.Expires.IsZero() {
		data.ExpiresISO, data.ExpiresHuman = sess.Expires.Format(time.RFC3339), sess.Expires.Format("15:04 UTC")
		data.ExpiresIn = httpkit.HumanDuration(sess.Expires.Sub(s.now()))
	}
	if f := snap.Pools[c.Query("pool")]; f != nil && f.Provider(sess.Provider) != nil {
		data.Focus, data.FocusDisplay = f.Cfg.Name, f.Cfg.DisplayName
	}
	accounts := map[string]*accountView{}
	pools := map[string]bool{}
	words := strings.Fields(strings.ToLower(data.Query))
	for _, pool := range snap.Ordered {
		if pool.Provider(sess.Provider) == nil {
			continue
		}
		for i, g := range sess.principalIn(pool).Entitlements().Grants {
			r := s.roleView(pool, g, i)
			data.Total++
			pools[pool.Cfg.ID] = true
			if data.Focus != "" && pool.Cfg.Name != data.Focus || !containsAll(r.Search, words) {
				continue
			}
			data.Shown++
			id := arn.Account(g.Role)
			a := accounts[id]
			if a == nil {
				a = &accountView{ID: id, Alias: pool.Cfg.AccountAliases[id]}
				accounts[id] = a
			} else if a.Alias == "" {
				a.Alias = pool.Cfg.AccountAliases[id]
			}
			a.Roles = append(a.Roles, r)
		}
	}
	data.Pools = len(pools)
	for _, a := range accounts {
		data.Accounts = append(data.Accounts, *a)
	}
	slices.SortFunc(data.Accounts, func(a, b accountView) int {
		return cmp.Or(cmp.Compare(cmp.Or(a.Alias, "~"), cmp.Or(b.Alias, "~")), cmp.Compare(a.ID, b.ID))
	})
	switch {
	case data.Focus != "" && data.Shown > 1:
		data.Heading = "Choose a role"
	case data.Focus != "":
		data.Heading = "Your role in " + data.FocusDisplay
	default:
		data.Heading = "Your AWS access"
	}
	s.kit.Render(c, http.StatusOK, "portal", data, true)
}

// roleView is one role of the portal, with its CLI profile.
func (s *Browser) roleView(pool *core.Pool, g rules.Grant, i int) portalRole {
	dur := g.Duration
	if dur == 0 {
		dur = time.Duration(pool.Cfg.DurationSeconds) * time.Second
	}
	name := core.RoleName(g.Role)
	profile := profileName("fedgate-" + pool.Cfg.Name + "-" + name)
	r := portalRole{
		PoolID: pool.Cfg.ID, PoolName: pool.Cfg.Name, PoolDisplay: pool.Cfg.DisplayName,
		ARN: g.Role, Name: name, Rule: g.Rule, Duration: httpkit.HumanDuration(dur), Profile: profile,
		Key: fmt.Sprintf("%s-%d", profileUnsafe.ReplaceAllString(pool.Cfg.Name, "-"), i),
		Snippet: "[profile " + profile + "]\n" +
			"credential_process = fedgate credential-process --gateway " + s.cfg.Server.PublicURL +
			" --pool " + pool.Cfg.ID + " --role " + g.Role + "\n" +
			"region = " + pool.Cfg.Region() + "\n",
	}
	r.Search = strings.ToLower(strings.Join([]string{r.Name, r.ARN, r.PoolDisplay, r.PoolName, r.Rule, arn.Account(g.Role), pool.Cfg.AccountAliases[arn.Account(g.Role)]}, " "))
	return r
}

// containsAll tells whether text contains every word.
func containsAll(text string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

var (
	profileUnsafe  = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	collapseDashes = regexp.MustCompile(`-{2,}`)
)

// profileName keeps an AWS profile name to characters every AWS tool
// accepts (as `fedgate configure` names them).
func profileName(s string) string {
	s = collapseDashes.ReplaceAllString(profileUnsafe.ReplaceAllString(s, "-"), "-")
	return strings.Trim(s, "-.")
}

// pickRole is POST /roles: vend the role picked in the portal and show the
// credentials page.
func (s *Browser) pickRole(c *gin.Context) {
	p, ok := s.postedPrincipal(c)
	if !ok {
		return
	}
	s.showCredentials(c, p, c.PostForm("role"))
}

// portalConsole is POST /portal/console: vend the role picked in the
// portal and open the AWS console with it at once.
func (s *Browser) portalConsole(c *gin.Context) {
	p, ok := s.postedPrincipal(c)
	if !ok {
		return
	}
	creds, _, e := s.core.Grant(c.Request.Context(), p, c.PostForm("role"), 0)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	s.openConsole(c, creds)
}

// postedPrincipal is the person of a portal form, in the pool it names;
// on false it has answered the refusal.
func (s *Browser) postedPrincipal(c *gin.Context) (*core.Principal, bool) {
	sess, _, ok := s.postedSession(c)
	if !ok {
		return nil, false
	}
	p, e := s.principal(c, sess, c.PostForm("pool"))
	if e != nil {
		s.kit.Fail(c, e) // the route's audit trail records it
		return nil, false
	}
	return p, true
}
