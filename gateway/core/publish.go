package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fedgate/exchange/issuer"
	"fedgate/exchange/issuer/publish"
	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// IssuerPublisher copies the issuer documents to where verifiers read
// them (keys.publish); *publish.Publisher is one.
type IssuerPublisher interface {
	Publish(ctx context.Context, docs issuer.Documents) ([]publish.Object, error)
	Location() string
}

// publishTimeout bounds one publication, the SDK's retries included.
const publishTimeout = 30 * time.Second

// IssuerDocuments are the documents of the live issuers: the root and
// every pool with an issuer of its own, and this replica's key set.
func (s *Core) IssuerDocuments() issuer.Documents {
	var pools []config.Pool
	for _, p := range s.Snapshot().Ordered {
		pools = append(pools, p.Cfg)
	}
	return issuer.Documents{Issuers: IssuerURLs(s.cfg, pools), JWKS: s.issuer.JWKS()}
}

// IssuerURLs are the issuers of f with pools: the issuer base, and the
// path of each pool that has an issuer of its own, sorted.
func IssuerURLs(f *config.File, pools []config.Pool) []string {
	urls := []string{f.IssuerBase()}
	for i := range pools {
		if pools[i].OwnIssuer {
			urls = append(urls, f.IssuerURL(&pools[i]))
		}
	}
	slices.Sort(urls)
	return slices.Compact(urls)
}

// LiveIssuerURLs are the issuers of the live mappings in the store (the
// file's before the first start), for commands that run beside the
// gateway rather than in it.
func LiveIssuerURLs(ctx context.Context, st store.Store, box *secret.Box, f *config.File) ([]string, error) {
	v, err := st.LatestConfig(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return IssuerURLs(f, f.Pools), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the live configuration: %w", err)
	}
	m, err := OpenMappings(box, v)
	if err != nil {
		return nil, err
	}
	return IssuerURLs(f, m.Pools), nil
}

// PublishIssuer writes the issuer documents when they differ from the last
// ones written: another key set (a rotation, a retired key leaving it) or
// another pool with an issuer of its own. After a failure the next call
// tries again.
func (s *Core) PublishIssuer(ctx context.Context) error {
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	return s.publishIssuerLocked(ctx, false)
}

// publishAfterReload is PublishIssuer for the watch loop: in the
// background, so a slow bucket does not hold up the reloads, and skipped
// while the previous publication is still going.
func (s *Core) publishAfterReload(ctx context.Context) {
	if s.publisher == nil || !s.publishMu.TryLock() {
		return
	}
	go func() {
		defer s.publishMu.Unlock()
		if err := s.publishIssuerLocked(ctx, false); err != nil && ctx.Err() == nil {
			s.log.Error("publishing the issuer documents failed; trying again at the next reload", "to", s.publisher.Location(), "error", err)
		}
	}()
}

// publishIssuerLocked writes the issuer documents when they changed since
// the last publication, or always when force. The caller holds publishMu.
func (s *Core) publishIssuerLocked(ctx context.Context, force bool) error {
	if s.publisher == nil {
		return nil
	}
	docs := s.IssuerDocuments()
	sig := documentsSignature(docs)
	if !force && sig == s.published {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	objs, err := s.publisher.Publish(ctx, docs)
	if err != nil {
		return err
	}
	s.published = sig
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	s.log.Info("issuer documents published", "to", s.publisher.Location(), "objects", keys, "key_ids", keyIDs(docs))
	return nil
}

// documentsSignature changes when the published documents would: another
// key id (a thumbprint, so another key) or another issuer.
func documentsSignature(docs issuer.Documents) string {
	return strings.Join(docs.Issuers, " ") + "|" + strings.Join(keyIDs(docs), " ")
}

func keyIDs(docs issuer.Documents) []string {
	ids := make([]string, len(docs.JWKS.Keys))
	for i, k := range docs.JWKS.Keys {
		ids[i] = k.KeyID
	}
	slices.Sort(ids)
	return ids
}
