package peers

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// STSTap is a recording proxy in front of moto's STS: point fedgate's STS
// endpoint at URL, and the test sees each AssumeRoleWith* call fedgate made.
type STSTap struct {
	URL   string
	mu    sync.Mutex
	calls []url.Values
}

// StartSTSTap starts the proxy and stops it when the test ends.
func (m *Moto) StartSTSTap(t testing.TB) *STSTap {
	t.Helper()
	motoURL, err := url.Parse(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	tap := &STSTap{}
	proxy := httputil.NewSingleHostReverseProxy(motoURL)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tap.record(r)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tap.URL = srv.URL
	return tap
}

func (tp *STSTap) record(r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	if strings.HasPrefix(form.Get("Action"), "AssumeRoleWith") {
		tp.mu.Lock()
		tp.calls = append(tp.calls, form)
		tp.mu.Unlock()
	}
}

// Calls are the forms of the calls so far, oldest first.
func (tp *STSTap) Calls() []url.Values {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return slices.Clone(tp.calls)
}

// Count is how many calls were made.
func (tp *STSTap) Count() int { return len(tp.Calls()) }

// Last is the form of the last call; without one the test stops.
func (tp *STSTap) Last(t testing.TB) url.Values {
	t.Helper()
	calls := tp.Calls()
	if len(calls) == 0 {
		t.Fatal("no STS call was made")
	}
	return calls[len(calls)-1]
}

// Snapshot is the number of calls and the web identity token of the last.
func (tp *STSTap) Snapshot() (calls int, last string) {
	all := tp.Calls()
	if len(all) > 0 {
		last = all[len(all)-1].Get("WebIdentityToken")
	}
	return len(all), last
}

// Tokens are the web identity tokens of every call so far.
func (tp *STSTap) Tokens() []string {
	var out []string
	for _, c := range tp.Calls() {
		out = append(out, c.Get("WebIdentityToken"))
	}
	return out
}
