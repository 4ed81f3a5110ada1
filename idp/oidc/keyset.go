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

const (
	// jwksMaxAge is how long a fetched key set is trusted before it is
	// fetched again, even when every kid in use is known.
	jwksMaxAge = time.Hour
	// jwksStaleWindow is how long past jwksMaxAge the last good set keeps
	// verifying while the IdP cannot be reached; after that its tokens
	// fail until a fetch succeeds.
	jwksStaleWindow = 24 * time.Hour
	// jwksFetchTimeout bounds one fetch, which runs apart from the
	// requests that wait for it.
	jwksFetchTimeout = 10 * time.Second
	// jwksRefreshWait is how long a request past jwksMaxAge waits for the
	// fresh set (so a withdrawn key stops verifying at once when the IdP
	// answers) before it goes on with the stale one.
	jwksRefreshWait = 500 * time.Millisecond
	// jwksUnknownKidWait is how long a token with an unknown kid waits for
	// the fetch that may publish it.
	jwksUnknownKidWait = 3 * time.Second
)

// jwksKeySet implements gooidc.KeySet against a jwks_uri. Unlike go-oidc's
// RemoteKeySet it refetches for an unknown kid at most once per
// minRefetch, so tokens with made-up kids cannot make us flood the IdP;
// fetches run on their own, so no request holds a lock across one and
// known keys keep verifying while the IdP is slow or down.
type jwksKeySet struct {
	url        string
	client     *http.Client
	now        func() time.Time
	algorithms []jose.SignatureAlgorithm
	minRefetch time.Duration

	mu          sync.Mutex
	keys        []jose.JSONWebKey
	fetchedAt   time.Time     // last successful fetch; zero before
	lastAttempt time.Time     // zero until the first attempt
	lastErr     error         // outcome of the last finished attempt
	inflight    chan struct{} // closed when the running fetch ends; nil when none runs
	slow        bool          // a request gave up waiting for the running fetch
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

	payload, known := verifyWithKeys(jws, kid, k.current(ctx))
	if payload != nil {
		return payload, nil
	}
	if known {
		// The kid is published and its key rejects the signature: a new
		// JWKS would not change that.
		return nil, fmt.Errorf("%w: signature does not verify with key %q", idp.ErrInvalidToken, kid)
	}
	fresh, err := k.refresh(ctx, jwksUnknownKidWait)
	if err != nil {
		return nil, err
	}
	if payload, _ := verifyWithKeys(jws, kid, fresh); payload != nil {
		return payload, nil
	}
	return nil, fmt.Errorf("%w: no published key verifies the signature (kid %q)", idp.ErrInvalidToken, kid)
}

// current is the key set to verify with. Past jwksMaxAge it asks for a
// fresh set and waits for it briefly: a key the IdP has withdrawn (say,
// after a compromise) must stop verifying even while its kid stays known.
// When the IdP is slow or down the last good set is kept, for at most
// jwksStaleWindow.
func (k *jwksKeySet) current(ctx context.Context) []jose.JSONWebKey {
	k.mu.Lock()
	fetched := k.fetchedAt
	k.mu.Unlock()
	if fetched.IsZero() {
		return nil
	}
	age := k.now().Sub(fetched)
	if age < jwksMaxAge {
		return k.usable()
	}
	if fresh, err := k.refresh(ctx, jwksRefreshWait); err == nil {
		return fresh
	}
	return k.usable()
}

// usable is the cached set unless it is past the stale window.
func (k *jwksKeySet) usable() []jose.JSONWebKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fetchedAt.IsZero() || k.now().Sub(k.fetchedAt) >= jwksMaxAge+jwksStaleWindow {
		return nil
	}
	return k.keys
}

// refresh starts a fetch unless one is running or an attempt happened
// within minRefetch, waits for it at most wait (and never after a request
// has already given up on the same fetch), and returns the resulting set.
func (k *jwksKeySet) refresh(ctx context.Context, wait time.Duration) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	done := k.startFetchLocked()
	slow := k.slow
	k.mu.Unlock()
	if done != nil {
		if slow {
			return nil, fmt.Errorf("%w: the JWKS fetch from %s is slow", idp.ErrUpstream, k.url)
		}
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for the JWKS: %w", idp.ErrUpstream, ctx.Err())
		case <-timer.C:
			k.mu.Lock()
			if k.inflight == done {
				k.slow = true
			}
			k.mu.Unlock()
			return nil, fmt.Errorf("%w: the JWKS fetch from %s takes longer than %s", idp.ErrUpstream, k.url, wait)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lastErr != nil {
		return nil, k.lastErr
	}
	return k.keys, nil
}

// startFetchLocked returns the channel of the running fetch, starting one
// unless the last attempt was within minRefetch (then nil). k.mu is held.
func (k *jwksKeySet) startFetchLocked() chan struct{} {
	if k.inflight != nil {
		return k.inflight
	}
	now := k.now()
	// A clock that went backwards does not block fetching.
	if since := now.Sub(k.lastAttempt); !k.lastAttempt.IsZero() && since >= 0 && since < k.minRefetch {
		return nil
	}
	k.lastAttempt = now
	done := make(chan struct{})
	k.inflight, k.slow = done, false
	go k.fetchInto(done)
	return done
}

// fetchInto runs one fetch, bounded by jwksFetchTimeout and by nobody's
// request, stores its outcome and closes done.
func (k *jwksKeySet) fetchInto(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), jwksFetchTimeout)
	defer cancel()
	keys, err := k.fetch(ctx)
	k.mu.Lock()
	if err != nil {
		k.lastErr = fmt.Errorf("%w: fetching JWKS: %w", idp.ErrUpstream, err)
	} else {
		k.keys, k.fetchedAt, k.lastErr = keys, k.now(), nil
	}
	k.inflight, k.slow = nil, false
	k.mu.Unlock()
	close(done)
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
