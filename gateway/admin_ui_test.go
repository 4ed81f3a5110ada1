package gateway

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A delete asks first: the pool page links to a confirmation page, and only
// its form deletes.
func TestAdminDeleteAsksFirst(t *testing.T) {
	h := newAdminHarness(t)
	owner, _ := h.signedInAdmin("carol", gwPassCarol)
	pool := owner.get("/admin/pools/team").Body.String()
	if strings.Contains(pool, `action="/admin/pools/team/delete"`) || strings.Contains(pool, `action="/admin/pools/team/rules/0/delete"`) {
		t.Fatal("the pool page deletes without asking")
	}
	for _, link := range []string{`href="/admin/pools/team/delete"`, `href="/admin/pools/team/rules/0/delete"`} {
		if !strings.Contains(pool, link) {
			t.Errorf("pool page lacks %s", link)
		}
	}
	rules := len(h.latestDoc().m.Pools[0].Rules)
	confirm := owner.get("/admin/pools/team/rules/0/delete")
	body := confirm.Body.String()
	if confirm.Code != http.StatusOK || !strings.Contains(body, "Delete rule #1, admins?") || !strings.Contains(body, gwAdmin) {
		t.Fatalf("confirmation page: %d\n%s", confirm.Code, body)
	}
	if len(h.latestDoc().m.Pools[0].Rules) != rules {
		t.Fatal("opening the confirmation deleted the rule")
	}
	form := url.Values{
		"csrf": {gwFind(t, gwAdminCSRF, body)},
		"etag": {html.UnescapeString(gwFind(t, regexp.MustCompile(`name="etag" value="([^"]+)"`), body))},
	}
	if w := owner.post("/admin/pools/team/rules/0/delete", form); w.Code != http.StatusSeeOther {
		t.Fatalf("confirmed delete: %d\n%s", w.Code, w.Body)
	}
	if got := h.latestDoc().m.Pools[0].Rules; len(got) != rules-1 || got[0].Name == "admins" {
		t.Errorf("rules after the delete: %+v", got)
	}
	if w := owner.get("/admin/pools/team/delete"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Delete the pool Team?") {
		t.Errorf("pool confirmation: %d", w.Code)
	}
	viewer, _ := h.signedInAdmin("alice", gwPassAlice)
	if w := viewer.get("/admin/pools/team/delete"); w.Code != http.StatusForbidden {
		t.Errorf("a viewer opened the delete confirmation: %d", w.Code)
	}
}

// The audit log names the pool and the provider next to their ids.
func TestAdminAuditShowsNames(t *testing.T) {
	h := newAdminHarness(t)
	h.browser().signInCreds("team", "alice", gwPassAlice)
	owner, _ := h.signedInAdmin("carol", gwPassCarol)
	page := owner.get("/admin/audit?kind=vend").Body.String()
	for _, want := range []string{`<strong>Team</strong></a> <span class="meta">(team)</span><br><code>` + gwTeamID + `</code>`,
		"<strong>alice</strong>", "via Demo users (<code>demo</code>)"} {
		if !strings.Contains(page, want) {
			t.Errorf("audit page lacks %s", want)
		}
	}
}

// The empty rows of a rule form show no test, and a row whose test is
// left unchosen saves as equals.
func TestAdminRuleEmptyRows(t *testing.T) {
	h := newAdminHarness(t)
	owner, csrf := h.signedInAdmin("carol", gwPassCarol)
	page := owner.get("/admin/pools/team/rules/_new").Body.String()
	rows := regexp.MustCompile(`(?s)<select name="op_\d+".*?</select>`).FindAllString(page, -1)
	if len(rows) == 0 {
		t.Fatal("no condition rows")
	}
	for _, r := range rows {
		if !strings.Contains(r, `<option value="" selected>`) || strings.Contains(r, `"equals" selected`) {
			t.Errorf("an empty row shows a test: %s", r)
		}
	}
	w := owner.post("/admin/pools/team/rules/_new", url.Values{"csrf": {csrf}, "name": {"ops"}, "claim_0": {"groups"}, "op_0": {""}, "value_0": {"ops"},
		"role": {"arn:aws:iam::123456789012:role/ops"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", w.Code, w.Body)
	}
	rules := h.latestDoc().m.Pools[0].Rules
	if last := rules[len(rules)-1]; last.Name != "ops" || len(last.Match) != 1 || last.Match[0].Op != "equals" {
		t.Errorf("saved rule %+v", last)
	}
}
