package core

import (
	"context"
	"fedgate/idp"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// samlRefreshEvery is how often the gateway asks its SAML providers to
// refresh; each provider's own interval (metadata_refresh) and its floor
// between failed attempts decide whether it actually fetches.
const samlRefreshEvery = 30 * time.Second

// WatchSAMLMetadata refreshes until ctx ends.
func (s *Core) WatchSAMLMetadata(ctx context.Context) {
	tick := time.NewTicker(samlRefreshEvery)
	defer tick.Stop()
	s.RefreshSAMLMetadata(ctx, tick.C)
}

// RefreshSAMLMetadata refreshes the live snapshot's providers at each tick.
func (s *Core) RefreshSAMLMetadata(ctx context.Context, tick <-chan time.Time) {
	w := &samlMetadataWatch{log: s.log, reported: map[idp.MetadataRefresher]bool{}}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		w.refresh(ctx, s.snap.Load())
	}
}

// samlMetadataWatch remembers which providers' failure streaks it has
// reported. It belongs to one loop goroutine.
type samlMetadataWatch struct {
	log      *slog.Logger
	reported map[idp.MetadataRefresher]bool
}

func (w *samlMetadataWatch) refresh(ctx context.Context, snap *Snapshot) {
	if snap == nil {
		return
	}
	live := map[idp.MetadataRefresher]bool{}
	for _, id := range SortedProviderIDs(snap) {
		r, ok := snap.Providers[id].Provider.(idp.MetadataRefresher)
		if !ok {
			continue
		}
		live[r] = true
		st := r.RefreshMetadata(ctx)
		if ctx.Err() != nil {
			return // shutting down: a cancelled fetch is no IdP failure
		}
		if st.ByURL {
			w.report(id, r, st)
		}
	}
	for r := range w.reported { // providers of an older snapshot
		if !live[r] {
			delete(w.reported, r)
		}
	}
}

// report logs the first failure of a streak at WARN and its end at INFO.
// The error names the metadata URL and the cause, never the document.
func (w *samlMetadataWatch) report(id string, r idp.MetadataRefresher, st idp.MetadataStatus) {
	switch {
	case st.Failures > 0 && !w.reported[r]:
		w.reported[r] = true
		msg := "saml metadata refresh failed; keeping the last good copy"
		if !st.Loaded {
			msg = "saml metadata refresh failed; no copy loaded, sign-ins through this provider fail"
		}
		cause := ""
		if st.LastError != nil {
			cause = st.LastError.Error()
		}
		w.log.Warn(msg, "provider", id, "failures", st.Failures, "error", cause)
	case st.Failures == 0 && w.reported[r]:
		delete(w.reported, r)
		w.log.Info("saml metadata refreshed again after failures", "provider", id)
	}
}

// samlMetadataCollector exports the metadata state of the live providers:
// fedgate_saml_metadata_refresh_failures (consecutive failed fetches, 0
// when the last one worked) and fedgate_saml_metadata_age_seconds (since
// the copy in use was fetched). Labels are provider ids (bounded: the
// configuration's).
type samlMetadataCollector struct{ s *Core }

var (
	samlMetadataFailuresDesc = prometheus.NewDesc("fedgate_saml_metadata_refresh_failures",
		"Consecutive failed fetches of a SAML provider's IdP metadata (0 after a good one); the last good copy stays in use.", []string{"provider"}, nil)
	samlMetadataAgeDesc = prometheus.NewDesc("fedgate_saml_metadata_age_seconds",
		"Seconds since the SAML IdP metadata in use was fetched.", []string{"provider"}, nil)
)

func (c samlMetadataCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- samlMetadataFailuresDesc
	ch <- samlMetadataAgeDesc
}

func (c samlMetadataCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.s.snap.Load()
	if snap == nil {
		return
	}
	now := c.s.now()
	for _, id := range SortedProviderIDs(snap) {
		r, ok := snap.Providers[id].Provider.(idp.MetadataRefresher)
		if !ok {
			continue
		}
		st := r.MetadataStatus()
		if !st.ByURL {
			continue
		}
		ch <- prometheus.MustNewConstMetric(samlMetadataFailuresDesc, prometheus.GaugeValue, float64(st.Failures), id)
		if st.Loaded {
			ch <- prometheus.MustNewConstMetric(samlMetadataAgeDesc, prometheus.GaugeValue, now.Sub(st.FetchedAt).Seconds(), id)
		}
	}
}

// SAMLMetadataCollector exports the metadata state of the live SAML
// providers to Prometheus.
func (s *Core) SAMLMetadataCollector() prometheus.Collector { return samlMetadataCollector{s} }
