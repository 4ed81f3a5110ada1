package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// fileState is what this replica knows of its mappings file between
// reloads.
type fileState struct {
	mu sync.Mutex
	// seen identifies the file content this replica last applied (or
	// found live) or refused: the digest of its mappings, or its refusal.
	// A reload that finds the same content again writes and logs nothing.
	seen string
	// refused is why the file on disk is not applied; nil when it is.
	refused error
	// refusals counts refused contents since start.
	refusals int
}

// maxFileApplyAttempts bounds how often a reload re-reads the live version
// after another writer (a replica applying the same file) won the race.
const maxFileApplyAttempts = 3

// ApplyMappingsFile makes the mappings of the configuration file the live
// version when mappings.source is file and the file changed since this
// replica last read it. A file that does not load or validate is refused
// loudly and the live version stays. Replicas sharing a store apply one
// edit once: the write is conditional on the live version the replica
// read, and the loser finds the file's digest live when it reads again.
//
// Only a change of this replica's own file is applied, never merely a live
// version that differs from it: during a rolling update, replicas with the
// old and the new file would otherwise overwrite each other at every reload.
func (s *Core) ApplyMappingsFile(ctx context.Context) error {
	if s.cfg.MappingsSource.Source != config.MappingsFromFile || s.file.Load == nil {
		return nil
	}
	f, err := s.file.Load()
	if err != nil {
		s.refuseFile(err)
		return nil
	}
	m := f.Mappings()
	doc, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding mappings: %w", err)
	}
	hash := s.box.Digest(doc)
	s.fileState.mu.Lock()
	unchanged := s.fileState.seen == hash
	s.fileState.mu.Unlock()
	if unchanged {
		return nil
	}
	// Validate as an admin save would: problems a file load does not see
	// (a provider that cannot be set up) must not reach the live version.
	if _, problems, err := s.CheckMappings(ctx, m); len(problems) > 0 || err != nil {
		if len(problems) > 0 {
			err = problems
		}
		s.refuseFile(err)
		return nil
	}
	sealed, err := s.box.Seal(doc, []byte("config"))
	if err != nil {
		return fmt.Errorf("sealing mappings: %w", err)
	}
	actor := "file:" + s.file.Path
	for attempt := 0; attempt < maxFileApplyAttempts; attempt++ {
		live, err := s.store.LatestConfig(ctx)
		if err != nil {
			return fmt.Errorf("reading live configuration: %w", err)
		}
		if live.Hash == hash {
			s.fileSeen(hash)
			return nil
		}
		entry := store.AuditEntry{Kind: store.AuditAdminChange, Actor: actor, Result: store.AuditOK,
			Reason: "mappings file changed; applied on reload"}
		v, err := s.store.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: sealed, Hash: hash, Author: actor,
			Source: SourceFile, Comment: "applied from the configuration file on reload"}, live.Version, entry)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("storing mappings: %w", err)
		}
		s.fileSeen(hash)
		s.log.Info("mappings file applied", "file", s.file.Path, "version", v, "replaced_version", live.Version)
		return nil
	}
	return fmt.Errorf("storing mappings: the live version kept changing")
}

// fileSeen records that the file with this digest is live.
func (s *Core) fileSeen(hash string) {
	s.fileState.mu.Lock()
	defer s.fileState.mu.Unlock()
	s.fileState.seen, s.fileState.refused = hash, nil
}

// refuseFile keeps the live version and says why the file is not applied,
// once per content: the ERROR is not repeated at every reload, the gauge
// stays up until the file is fixed.
func (s *Core) refuseFile(err error) {
	s.fileState.mu.Lock()
	defer s.fileState.mu.Unlock()
	key := "refused:" + err.Error()
	if s.fileState.seen == key {
		return
	}
	s.fileState.seen, s.fileState.refused = key, err
	s.fileState.refusals++
	live := int64(0)
	if snap := s.snap.Load(); snap != nil {
		live = snap.Version
	}
	s.log.Error("mappings file refused; the live version is kept until the file is fixed",
		"file", s.file.Path, "live_version", live, "error", err.Error())
}

// MappingsFileRefused reports whether the mappings file on disk is refused
// (it does not load or validate), so the live version is older than it.
func (s *Core) MappingsFileRefused() bool {
	s.fileState.mu.Lock()
	defer s.fileState.mu.Unlock()
	return s.fileState.refused != nil
}

// MappingsFileCollector exports the state of the mappings file.
func (s *Core) MappingsFileCollector() prometheus.Collector { return mappingsFileCollector{s} }

var (
	mappingsFileRefusedDesc = prometheus.NewDesc("fedgate_mappings_file_refused",
		"1 while the mappings file (mappings.source: file) is refused and an older live version serves, 0 otherwise.", nil, nil)
	mappingsFileRefusalsDesc = prometheus.NewDesc("fedgate_mappings_file_refusals_total",
		"Refused contents of the mappings file since start.", nil, nil)
)

type mappingsFileCollector struct{ s *Core }

func (c mappingsFileCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- mappingsFileRefusedDesc
	ch <- mappingsFileRefusalsDesc
}

func (c mappingsFileCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.fileState.mu.Lock()
	refused, refusals := 0.0, float64(c.s.fileState.refusals)
	if c.s.fileState.refused != nil {
		refused = 1
	}
	c.s.fileState.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(mappingsFileRefusedDesc, prometheus.GaugeValue, refused)
	ch <- prometheus.MustNewConstMetric(mappingsFileRefusalsDesc, prometheus.CounterValue, refusals)
}
