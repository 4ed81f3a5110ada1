package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fedgate/cmd/fedgate/internal/peers"
)

// viaProxy is dsn (a postgres:// URL) with its host replaced by listen.
func viaProxy(t *testing.T, dsn, listen string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Skipf("FEDGATE_TEST_POSTGRES_DSN is not a URL; the PostgreSQL fault test needs one")
	}
	u.Host = listen
	return u.String()
}

// TestFaultsPostgresConnectionsCut: under vends and admin edits, toxiproxy
// cuts every connection to PostgreSQL and refuses new ones for 2 s. While
// it is cut, every surface answers 503 store_unavailable with Retry-After
// (the JSON API, Cognito, a browser page), never a 500. Vends resume
// within seconds without a restart; every acknowledged edit is in the
// history once and no edit is applied twice; every 200 vend is audited.
func TestFaultsPostgresConnectionsCut(t *testing.T) {
	direct := peers.PostgresSchema(t)
	var proxy *peers.Proxy
	var guestRole string
	e := startEnv(t, withCognitoPool(&guestRole), withAdmin, func(e *env) string {
		u, err := url.Parse(direct)
		if err != nil {
			e.t.Fatal(err)
		}
		proxy = peers.StartToxiproxy(e.t).Proxy(e.t, "postgres", "127.0.0.1:0", u.Host)
		return withPostgres(viaProxy(e.t, direct, proxy.Listen))(e)
	})
	token := e.token("alice", e2eClientID, 15*time.Minute)
	vends := startLoad(4, e.vendRequest(token))

	type edit struct {
		name string
		outcome
	}
	var mu sync.Mutex
	var edits []edit
	stopEdits := make(chan struct{})
	var editors sync.WaitGroup
	client := loadClient(2)
	for ed := range 2 {
		editors.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopEdits:
					return
				default:
				}
				name := fmt.Sprintf("cut-%d-%d", ed, i)
				req, _ := http.NewRequest(http.MethodPost, e.url+"/admin/api/v1/pools/team/rules",
					strings.NewReader(`{"name":"`+name+`","match":[{"claim":"sub","op":"equals","value":"`+name+`"}],"role":"`+e.readerRole+`"}`))
				req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
				req.Header.Set("Content-Type", "application/json")
				o := do(client, req)
				mu.Lock()
				edits = append(edits, edit{name, o})
				mu.Unlock()
				time.Sleep(100 * time.Millisecond)
			}
		})
	}

	time.Sleep(2 * time.Second)
	cut := time.Now()
	proxy.SetEnabled(t, false)
	time.Sleep(500 * time.Millisecond)
	probes := probeSurfaces(t, e)
	time.Sleep(time.Until(cut.Add(2 * time.Second)))
	proxy.SetEnabled(t, true)
	restored := time.Now()
	resumed := waitFor(t, 15*time.Second, "a vend after PostgreSQL came back", func() bool {
		for _, o := range vends.snapshot() {
			if o.at.After(restored) && o.status == http.StatusOK {
				return true
			}
		}
		return false
	})
	time.Sleep(2 * time.Second)
	outs := vends.stop()
	close(stopEdits)
	editors.Wait()

	failedDuringCut := 0
	for _, o := range outs {
		if o.at.After(cut) && o.at.Before(restored) && o.status != http.StatusOK {
			failedDuringCut++
		}
		if o.took > 15*time.Second {
			t.Errorf("a vend hung for %s", o.took)
		}
		if o.status != http.StatusOK && !storeUnavailable(o) {
			t.Errorf("a vend sent %s after the cut answered %s; want 200 or 503 store_unavailable with Retry-After", o.at.Sub(cut).Round(time.Millisecond), describe(o))
		}
	}
	for _, ed := range edits {
		if ed.status/100 != 2 && !storeUnavailable(ed.outcome) {
			t.Errorf("edit %s answered %s; want 2xx or 503 store_unavailable with Retry-After", ed.name, describe(ed.outcome))
		}
	}
	for surface, o := range probes {
		if !storeUnavailable(o) {
			t.Errorf("%s while PostgreSQL was cut: %s; want 503 store_unavailable with Retry-After", surface, describe(o))
		}
	}
	if failedDuringCut == 0 {
		t.Errorf("no vend failed while PostgreSQL was cut off; did the fault happen? %v", summary(outs))
	}
	if resumed > 5*time.Second {
		t.Errorf("vends resumed %s after PostgreSQL came back", resumed)
	}

	// Edits: each acknowledged one is in the pool once; none is there twice.
	count := map[string]int{}
	for _, name := range e.ruleNames(t, "team") {
		count[name]++
	}
	acked, failed, landed := 0, 0, 0
	for _, ed := range edits {
		switch {
		case ed.status/100 == 2:
			acked++
			if count[ed.name] != 1 {
				t.Errorf("acknowledged edit %s is in the pool %d times", ed.name, count[ed.name])
			}
		case count[ed.name] > 1:
			t.Errorf("failed edit %s is in the pool %d times", ed.name, count[ed.name])
		default:
			failed++
			landed += count[ed.name]
		}
	}
	db, err := sql.Open("pgx", direct)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var audited, versions int
	ctx := context.Background()
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE kind = 'vend' AND result = 'ok'`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT version) FROM audit_log WHERE kind = 'admin_change'`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	ok, withheld := 0, 0
	for _, o := range outs {
		switch {
		case o.status == http.StatusOK:
			ok++
		case o.code == "store_unavailable":
			withheld++
		}
	}
	// No 200 without its row. A row whose commit reached PostgreSQL while
	// the connection died before the answer is there although fedgate
	// withheld those credentials: at most one per withheld vend.
	if audited < ok || audited > ok+withheld {
		t.Errorf("%d vends answered 200 and %d were withheld, %d audited", ok, withheld, audited)
	}
	t.Logf("PostgreSQL cut for 2 s: vends %v; resumed %s after it came back; %d edits acknowledged (each once), %d failed (%d of them landed, once); %d admin changes audited; %d vends, %d withheld, %d audited",
		summary(outs), resumed.Round(time.Millisecond), acked, failed, landed, versions, ok, withheld, audited)
}

// storeUnavailable: o is the 503 of a store out of reach, with when to
// come back. Cognito names it with its own error type (see probeSurfaces).
func storeUnavailable(o outcome) bool {
	return o.status == http.StatusServiceUnavailable && o.retryAfter != "" &&
		(o.code == "store_unavailable" || o.code == "InternalErrorException")
}

func describe(o outcome) string {
	if o.err != nil {
		return "error " + o.err.Error()
	}
	return fmt.Sprintf("HTTP %d %q Retry-After %q", o.status, o.code, o.retryAfter)
}

// probeSurfaces sends, while the store is out of reach, one request of
// each surface that needs it: an admin edit (JSON API), Cognito's GetId of
// a new guest (an identity is stored), and a browser starting a sign-in
// (its state is stored). The page's code is read from the page.
func probeSurfaces(t *testing.T, e *env) map[string]outcome {
	t.Helper()
	client := loadClient(1)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	out := map[string]outcome{}

	req, _ := http.NewRequest(http.MethodPost, e.url+"/admin/api/v1/pools/team/rules",
		strings.NewReader(`{"name":"probe","match":[{"claim":"sub","op":"equals","value":"probe"}],"role":"`+e.readerRole+`"}`))
	req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
	req.Header.Set("Content-Type", "application/json")
	out["admin API edit"] = do(client, req)

	req, _ = http.NewRequest(http.MethodPost, e.url+cognitoPath, strings.NewReader(`{"IdentityPoolId":"`+poolMobileID+`"}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.GetId")
	out["Cognito GetId"] = do(client, req)

	req, _ = http.NewRequest(http.MethodGet, e.url+"/login/team/corp", nil)
	req.Header.Set("Accept", "text/html")
	page := outcome{at: time.Now()}
	if resp, err := client.Do(req); err != nil {
		page.err = err
	} else {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		resp.Body.Close()
		page.status, page.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		if strings.Contains(string(raw), "store_unavailable") && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			page.code = "store_unavailable"
		}
	}
	out["browser sign-in page"] = page
	return out
}
