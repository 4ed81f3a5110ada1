package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// SourceFile marks configuration versions written from the config file.
const SourceFile = "file"

// Seed makes the file's providers and pools live as mappings.source says.
// With "file", every start makes the file the live version (replacing
// run-time edits, loudly). With "store", the file seeds an empty store once;
// after that, a file that differs from the live version is not applied and
// a warning names the live version.
func Seed(ctx context.Context, st store.Store, box *secret.Box, f *config.File, log *slog.Logger) (int64, error) {
	doc, err := json.Marshal(f.Mappings())
	if err != nil {
		return 0, fmt.Errorf("encoding mappings: %w", err)
	}
	// A keyed digest, not a plain hash: the document holds client secrets,
	// and viewers see the hash (TestVersionHashIsNotAGuessOracle). It is
	// deterministic, so the same file still maps to the same version.
	hash := box.Digest(doc)
	// Replicas starting at once on an empty shared store race to seed: the
	// loser of PutConfig's check reads again and, finding the same document
	// (or a version made at run time), keeps it.
	for attempt := 0; ; attempt++ {
		v, err := seedOnce(ctx, st, box, doc, hash, f.MappingsSource.Source, log)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue
		}
		return v, err
	}
}

// FileMappingsState compares the file's mappings with the live version:
// whether they are the same, and the live version (nil before the first).
func FileMappingsState(ctx context.Context, st store.ConfigStore, box *secret.Box, f *config.File) (same bool, live *store.ConfigVersion, err error) {
	doc, err := json.Marshal(f.Mappings())
	if err != nil {
		return false, nil, fmt.Errorf("encoding mappings: %w", err)
	}
	live, err = st.LatestConfig(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("reading live configuration: %w", err)
	}
	return live.Hash == box.Digest(doc), live, nil
}

func seedOnce(ctx context.Context, st store.Store, box *secret.Box, doc []byte, hash, source string, log *slog.Logger) (int64, error) {
	latest, err := st.LatestConfig(ctx)
	var current int64
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return 0, fmt.Errorf("reading live configuration: %w", err)
	case latest.Hash == hash:
		return latest.Version, nil
	case source != config.MappingsFromFile:
		log.Warn("mappings.source is store: the configuration file's providers, pools and rules are NOT applied; "+
			"the live version differs from the file (fedgate mappings diff shows how; set mappings.source: file to make the file authoritative)",
			"live_version", latest.Version, "live_source", latest.Source, "live_author", latest.Author,
			"live_since", latest.CreatedAt.UTC().Format(time.RFC3339))
		return latest.Version, nil
	default:
		current = latest.Version
		if latest.Source != SourceFile {
			log.Warn("mappings.source is file: the configuration file replaces the mappings edited at run time",
				"replaced_version", latest.Version, "replaced_source", latest.Source, "replaced_author", latest.Author)
		}
	}
	sealed, err := box.Seal(doc, []byte("config"))
	if err != nil {
		return 0, fmt.Errorf("sealing mappings: %w", err)
	}
	v, err := st.PutConfig(ctx, store.ConfigVersion{Doc: sealed, Hash: hash, Author: "config file", Source: SourceFile, Comment: "seeded from the configuration file"}, current)
	if err != nil {
		return 0, fmt.Errorf("storing mappings: %w", err)
	}
	log.Info("configuration seeded from file", "version", v, "mappings_source", source)
	return v, nil
}
