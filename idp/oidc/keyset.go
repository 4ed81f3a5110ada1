package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"fedgate/idp"
	"fedgate/idp/internal/httpcap"
)

// jwksMaxAge is how long a fetched key set is trusted before it is fetched
// again, even when every kid in use is known.
const jwksMaxAge = time.Hour

// jwksKeySet implements gooidc.KeySet against a jwks_uri. Unlike go-oidc's
// RemoteKeySet it refetches for an unknown kid at most once per
// minRefetch, so tokens with made-up kids cannot make us flood the IdP.
type jwksKeySet struct {
	url        string
	client     *http.Client
	now        func() time.Time
	algorithms []jose.SignatureAlgorithm
	minRefetch time.Duration

	fetchMu sync.Mutex // one fetch at a time; waiters reuse its result

	mu        sync.RWMutex
	keys      []jose.JSONWebKey
	lastFetch time.Time // zero until the first attempt
	lastErr   error     // outcome of the last attempt
}

func newJWKSKeySet(url string, client *http.Client, now func() time.Time, algorithms []string, minRefetch time.Duration) *jwksKeySet {
	algs := make([]jose.SignatureAlgorithm, 0, len(algorithms))
	for _, a := range algorithms {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	return &jwksKeySet{url: url, client: client, now: now, algorithms: algs, minRefetch: minRefetch}
}

// VerifySignature returns the payload of jwt if a published key verifies
// it. Errors wrap idp.ErrInvalidToken, or idp.ErrUpstream when the JWKS
// could not be fetched.
func (k *jwksKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(jwt, k.algorithms)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", idp.ErrInvalidToken, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: expected exactly one signature", idp.ErrInvalidToken)
	}
	kid := jws.Signatures[0].Header.KeyID

	k.mu.RLock()
	cached, fetched := k.keys, k.lastFetch
	k.mu.RUnlock()
	// Keys age out: a key the IdP has withdrawn (say, after a compromise)
	// must stop verifying even while its kid stays known. When the IdP
	// cannot be reached, the last good set is kept.
	if !fetched.IsZero() && k.now().Sub(fetched) >= jwksMaxAge {
		if fresh, err := k.refresh(ctx); err == nil {
			cached = fresh
		}
	}
	payload, known := verifyWithKeys(jws, kid, cached)
	if payload != nil {
		return payload, nil
	}
	if known {
		// The kid is published and its key rejects the signature: a new
		// JWKS would not change that.
		return nil, fmt.Errorf("%w: signature does not verify with key %q", idp.ErrInvalidToken, kid)
	}
	fresh, err := k.refresh(ctx)
	if err != nil {
		return nil, err
	}
	if payload, _ := verifyWithKeys(jws, kid, fresh); payload != nil {
		return payload, nil
	}
	return nil, fmt.Errorf("%w: no published key verifies the signature (kid %q)", idp.ErrInvalidToken, kid)
}

// verifyWithKeys tries the keys matching kid (all keys when the token has
// no kid). known reports whether some key carried that kid.
func verifyWithKeys(jws *jose.JSONWebSignature, kid string, keys []jose.JSONWebKey) (payload []byte, known bool) {
	for i := range keys {
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		known = kid != ""
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, known
}

// refresh fetches the JWKS unless an attempt happened within minRefetch,
// in which case it returns that attempt's outcome.
func (k *jwksKeySet) refresh(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()

	now := k.now()
	k.mu.RLock()
	keys, last, lastErr := k.keys, k.lastFetch, k.lastErr
	k.mu.RUnlock()
	// A clock that went backwards does not block fetching.
	if since := now.Sub(last); !last.IsZero() && since >= 0 && since < k.minRefetch {
		if lastErr != nil {
			return nil, lastErr
		}
		return keys, nil
	}

	fetched, err := k.fetch(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lastFetch = now
	if err != nil {
		k.lastErr = fmt.Errorf("%w: fetching JWKS: %w", idp.ErrUpstream, err)
		return nil, k.lastErr
	}
	k.keys, k.lastErr = fetched, nil
	return fetched, nil
}

func (k *jwksKeySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUpstreamBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxUpstreamBody {
		return nil, httpcap.ErrBodyTooLarge
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	return parseJWKS(body)
}

// parseJWKS keeps the public signing keys of a JWK set and skips keys it
// cannot use (encryption keys, symmetric or private keys, unknown types),
// as RFC 7517 section 5 asks, instead of failing the whole set.
func parseJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decoding JWKS: %w", err)
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		// A malformed or unsupported entry must not hide the good keys.
		if err := key.UnmarshalJSON(raw); err != nil {
			continue
		}
		if key.Use == "enc" || !key.IsPublic() || !key.Valid() {
			continue
		}
		keys = append(keys, key)
	}
	return keys, nil
}
