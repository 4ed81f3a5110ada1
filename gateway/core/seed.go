package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// SourceFile marks configuration versions written from the config file.
const SourceFile = "file"

// Seed writes the file's providers and pools to the store as a new version
// when they differ from the last version the file wrote. A version made at
// run time (by an admin) is kept: the file does not silently undo it.
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
		v, err := seedOnce(ctx, st, box, doc, hash, log)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue
		}
		return v, err
	}
}

func seedOnce(ctx context.Context, st store.Store, box *secret.Box, doc []byte, hash string, log *slog.Logger) (int64, error) {
	latest, err := st.LatestConfig(ctx)
	var current int64
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return 0, fmt.Errorf("reading live configuration: %w", err)
	case latest.Hash == hash:
		return latest.Version, nil
	case latest.Source != SourceFile:
		log.Warn("the store holds mappings edited at run time; the config file's providers and pools are not applied",
			"live_version", latest.Version, "live_source", latest.Source)
		return latest.Version, nil
	default:
		current = latest.Version
	}
	sealed, err := box.Seal(doc, []byte("config"))
	if err != nil {
		return 0, fmt.Errorf("sealing mappings: %w", err)
	}
	v, err := st.PutConfig(ctx, store.ConfigVersion{Doc: sealed, Hash: hash, Author: "config file", Source: SourceFile, Comment: "seeded from the configuration file"}, current)
	if err != nil {
		return 0, fmt.Errorf("storing mappings: %w", err)
	}
	log.Info("configuration seeded from file", "version", v)
	return v, nil
}
