package idp

import (
	"context"
	"time"
)

// MetadataStatus is the state of IdP metadata fetched by URL.
type MetadataStatus struct {
	// ByURL is false for inline metadata, which is never refreshed.
	ByURL bool
	// Loaded says a good copy is in use.
	Loaded bool
	// FetchedAt is when the copy in use was fetched.
	FetchedAt time.Time
	// Failures counts fetches failed since the last good one; LastError is
	// the last one's error (it names the URL and the cause, never the
	// document).
	Failures  int
	LastError error
}

// MetadataRefresher is implemented by providers whose configuration
// (SAML IdP metadata) is fetched and must be refreshed on a schedule even
// when nobody signs in.
type MetadataRefresher interface {
	// RefreshMetadata fetches the metadata if it is due (the provider's
	// refresh interval, with a floor between failed attempts), bounded by
	// ctx, and reports the state after the attempt. A failed refresh keeps
	// the last good copy in use.
	RefreshMetadata(ctx context.Context) MetadataStatus
	// MetadataStatus reports the state without fetching.
	MetadataStatus() MetadataStatus
}

var _ MetadataRefresher = (*SAML)(nil)

// RefreshMetadata implements MetadataRefresher.
func (s *SAML) RefreshMetadata(ctx context.Context) MetadataStatus {
	_, _ = s.metadata(ctx) // the outcome is in the status
	return s.MetadataStatus()
}

// MetadataStatus reports the state of the metadata without fetching.
func (s *SAML) MetadataStatus() MetadataStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return MetadataStatus{
		ByURL: s.cfg.IdPMetadataURL != "", Loaded: s.meta != nil, FetchedAt: s.fetchedAt,
		Failures: s.failures, LastError: s.lastErr,
	}
}
