package core

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// SourceCognitoAPI is the history source of changes made through the
// Cognito Identity API's signed operations.
const SourceCognitoAPI = "cognito-api"

// ChangeMappings applies change to the live mappings and, when the result
// is valid with the file configuration, stores it as one version with its
// audit entry (actor, pool, comment) and makes it live on this replica.
// Problems are returned as config.Problems; a version saved meanwhile by
// someone else is store.ErrConflict.
func (s *Core) ChangeMappings(ctx context.Context, actor, pool, comment string, change func(*config.Mappings) error) (int64, error) {
	v, err := s.store.LatestConfig(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading live configuration: %w", err)
	}
	m, err := OpenMappings(s.box, v)
	if err != nil {
		return 0, err
	}
	if err := change(&m); err != nil {
		return 0, err
	}
	// Validated with defaults applied to copies: the stored document keeps
	// what was set, as the admin surface stores it.
	full := *s.cfg
	full.Providers = make([]config.Provider, len(m.Providers))
	for i, p := range m.Providers {
		full.Providers[i] = p.Clone()
	}
	full.Pools = slices.Clone(m.Pools)
	full.ApplyDefaults()
	if problems := full.Validate(); len(problems) > 0 {
		return 0, problems
	}
	doc, err := json.Marshal(m)
	if err != nil {
		return 0, err
	}
	sealed, err := s.box.Seal(doc, []byte("config"))
	if err != nil {
		return 0, err
	}
	entry := WithAuditMeta(ctx, store.AuditEntry{Kind: store.AuditAdminChange, Actor: actor, Pool: pool, Result: store.AuditOK, Reason: comment})
	version, err := s.store.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: sealed, Hash: s.box.Digest(doc), Author: actor,
		Source: SourceCognitoAPI, Comment: comment}, v.Version, entry)
	if err != nil {
		return 0, err
	}
	if err := s.Reload(ctx); err != nil {
		LogFrom(ctx, s.log).Error("the saved configuration did not load", "version", version, "error", err)
	}
	return version, nil
}
