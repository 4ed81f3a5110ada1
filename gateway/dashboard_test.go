package gateway

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// dashboardPath is the Grafana dashboard shipped in deploy/.
const dashboardPath = "../deploy/grafana/fedgate.json"

// The dashboard queries only metrics the server exports: a renamed or
// removed metric would leave a panel silently empty.
func TestGrafanaDashboardQueriesExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID        string
		Panels     []dashboardPanel
		Templating struct {
			List []struct {
				Name       string
				Definition string
			}
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if dash.UID == "" {
		t.Error("the dashboard has no uid: imports would duplicate it")
	}
	var exprs []string
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			if strings.TrimSpace(target.Expr) == "" {
				t.Errorf("panel %q has an empty query", p.Title)
			}
			exprs = append(exprs, target.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		exprs = append(exprs, v.Definition)
	}

	queried := map[string]bool{}
	for _, e := range exprs {
		for _, name := range metricNames(e) {
			queried[name] = true
			if !exported[name] {
				t.Errorf("the dashboard queries %s, which fedgate does not export (%s)", name, e)
			}
		}
	}
	// Every metric of fedgate's own has a panel: a metric worth exporting
	// is worth a look. (Runtime collectors, if any, are not required.)
	for name := range exported {
		if strings.HasPrefix(name, "fedgate_") && !queried[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
}

type dashboardPanel struct {
	Type    string
	Title   string
	Targets []struct{ Expr string }
}

// selector is a metric name before a label matcher or a range.
var selector = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]`)

// metricNames lists the metrics a PromQL expression selects; every
// selector in the dashboard names its metric before `{`.
func metricNames(expr string) []string {
	var names []string
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		names = append(names, m[1])
	}
	// label_values(metric, label) in variable definitions.
	if m := regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`).FindStringSubmatch(expr); m != nil {
		names = append(names, m[1])
	}
	return names
}

// exportedMetrics is every metric family a server's /metrics can show,
// from its registry's descriptions (a vector without samples is absent
// from a scrape, but not from these).
func exportedMetrics(t *testing.T) map[string]bool {
	h := newGWHarness(t)
	ch := make(chan *prometheus.Desc)
	go func() { h.srv.metrics.registry.Describe(ch); close(ch) }()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		names[m[1]] = true
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	t.Logf("exported metrics: %s", strings.Join(list, ", "))
	if !names["fedgate_http_requests_total"] || !names["fedgate_vends_total"] {
		t.Fatalf("the registry's descriptions lack the request and vend counters: %v", list)
	}
	return names
}
