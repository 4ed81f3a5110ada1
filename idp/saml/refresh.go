package saml

import (
	"context"

	"fedgate/idp"
)

var _ idp.MetadataRefresher = (*Provider)(nil)

// RefreshMetadata implements idp.MetadataRefresher.
func (s *Provider) RefreshMetadata(ctx context.Context) idp.MetadataStatus {
	_, _ = s.metadata(ctx) // the outcome is in the status
	return s.MetadataStatus()
}

// MetadataStatus reports the state of the metadata without fetching.
func (s *Provider) MetadataStatus() idp.MetadataStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return idp.MetadataStatus{
		ByURL: s.cfg.IdPMetadataURL != "", Loaded: s.meta != nil, FetchedAt: s.fetchedAt,
		Failures: s.failures, LastError: s.lastErr,
	}
}
