package core

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"math"
	"net/http"
	"sync"
	"time"

	"fedgate/idp"
)

// The verified-token cache spares a second verification of the same
// upstream token: the Cognito SDKs send one login to GetId and then to
// GetCredentialsForIdentity, and apps present one ID token for every vend
// until it expires. An entry is keyed by a hash of the token (the token
// itself is never kept), belongs to the live provider object that verified
// it (a configuration change makes new ones, so old entries stop
// matching), and is served only until the token's exp.
const verifiedTokenCacheMax = 10_000

type tokenCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	provider *Provider
	ident    idp.Identity
	expires  time.Time
}

func newTokenCache() *tokenCache {
	return &tokenCache{entries: map[[sha256.Size]byte]verifiedToken{}}
}

func tokenKey(providerID, raw string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(providerID))
	h.Write([]byte{0})
	h.Write([]byte(raw))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// VerifyToken verifies a bearer token with the provider, or returns the
// identity a previous verification of the same token by the same live
// provider gave, while the token is unexpired. The Identity is the
// caller's; its Claims map is shared and must be treated as read-only.
func (s *Core) VerifyToken(ctx context.Context, p *Provider, raw string) (*idp.Identity, error) {
	tv, ok := p.Provider.(idp.TokenVerifier)
	if !ok {
		return nil, Errorf(http.StatusBadRequest, CodeUnknownProvider, "The provider %q does not accept bearer tokens.", p.Cfg.ID)
	}
	key := tokenKey(p.Cfg.ID, raw)
	now := s.now()
	c := s.tokens
	c.mu.Lock()
	e, hit := c.entries[key]
	if hit && (e.provider != p || !now.Before(e.expires)) {
		delete(c.entries, key)
		hit = false
	}
	c.mu.Unlock()
	if hit {
		ident := e.ident
		ident.RawToken = raw
		return &ident, nil
	}
	ident, err := tv.VerifyToken(ctx, raw)
	if err != nil {
		return nil, err
	}
	exp, ok := claimTime(ident.Claims["exp"])
	if !ok || !now.Before(exp) {
		return ident, nil
	}
	cached := *ident
	cached.RawToken = "" // the token is never kept, only its hash
	c.mu.Lock()
	if len(c.entries) >= verifiedTokenCacheMax {
		evictOne(c.entries)
	}
	c.entries[key] = verifiedToken{provider: p, ident: cached, expires: exp}
	c.mu.Unlock()
	return ident, nil
}

// claimTime reads a NumericDate claim.
func claimTime(v any) (time.Time, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int64:
		f = float64(x)
	case int:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
