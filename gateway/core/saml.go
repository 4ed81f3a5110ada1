package core

// SAML: upstream SAML providers, the saml-forward and saml-broker
// exchange modes, and the replay cache the providers share over the store.

import (
	"bytes"
	"context"

	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"

	"fedgate/exchange/rules"
	"fedgate/exchange/samlbroker"
	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
	"fedgate/idp"
)

// KindSAMLAssertion is the ephemeral kind of replay-cache entries.
const KindSAMLAssertion = "saml-assertion"

// samlState is what the SAML surfaces need beyond the snapshot: the
// broker IdP, built on first use (its first start creates a signing key).
type samlState struct {
	keys store.KeyStore
	box  *secret.Box
	cfg  config.SAMLBroker
	sso  string
	now  func() time.Time
	rand io.Reader
	// reloadEvery is how often the broker re-reads its keys from the store.
	reloadEvery time.Duration

	mu     sync.Mutex
	broker *samlbroker.IdP
	ring   *samlbroker.KeyRing
}

func newSAMLState(f *config.File, st store.Store, box *secret.Box, now func() time.Time, rand io.Reader) *samlState {
	return &samlState{
		keys: st.SAMLSigningKeys(), box: box, cfg: f.SAMLBroker, sso: f.Server.PublicURL + "/",
		now: now, rand: rand, reloadEvery: f.Server.ReloadInterval.D(),
	}
}

// OpenSAMLBroker opens the broker IdP and its key ring over the store, for
// the CLI (`fedgate saml-metadata`); the first call creates a signing key.
func OpenSAMLBroker(ctx context.Context, f *config.File, st store.Store, box *secret.Box, now func() time.Time, rand io.Reader) (*samlbroker.IdP, *samlbroker.KeyRing, error) {
	state := newSAMLState(f, st, box, now, rand)
	b, err := state.brokerIdP(ctx)
	if err != nil {
		return nil, nil, err
	}
	return b, state.ring, nil
}

// brokerIdP returns the broker IdP, loading (or on first start creating)
// its signing key. A failure is retried on the next call.
func (st *samlState) brokerIdP(ctx context.Context) (*samlbroker.IdP, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.broker != nil {
		return st.broker, nil
	}
	cn := "fedgate SAML broker"
	if u, err := url.Parse(st.cfg.EntityID); err == nil && u.Host != "" {
		cn = u.Host
	}
	ring, err := samlbroker.NewKeyRing(ctx, samlbroker.KeyOptions{
		Keys: st.keys, Sealer: st.box, Now: st.now, Rand: st.rand, CommonName: cn, ReloadEvery: st.reloadEvery,
	})
	if err != nil {
		return nil, err
	}
	b, err := samlbroker.New(samlbroker.Options{
		EntityID: st.cfg.EntityID, SignInURL: st.cfg.SignInURL, Audience: st.cfg.SignInURL, SSOURL: st.sso,
		AssertionTTL: st.cfg.AssertionTTL.D(), Keys: ring, Now: st.now, Rand: st.rand,
	})
	if err != nil {
		return nil, err
	}
	st.broker, st.ring = b, ring
	return b, nil
}

// brokerSigner defers building the broker until a saml-broker pool vends.
type brokerSigner struct{ st *samlState }

func (b brokerSigner) SignAWSResponse(ctx context.Context, a samlbroker.Assertion) (string, error) {
	idp, err := b.st.brokerIdP(ctx)
	if err != nil {
		return "", err
	}
	return idp.SignAWSResponse(ctx, a)
}

// samlReplay is the providers' replay cache over the shared store, so an
// assertion accepted by one replica is refused by every other.
type samlReplay struct {
	st       store.EphemeralStore
	now      func() time.Time
	provider string
}

// SAMLReplayKey scopes an assertion id to its provider: ids are unique per
// IdP only, and one IdP must not be able to spend another's.
func SAMLReplayKey(provider, assertionID string) string {
	return provider + "\x00" + assertionID
}

// minReplayHold keeps an entry past the store's clock even for an
// assertion about to expire (the store refuses an expiry in the past).
const minReplayHold = time.Minute

func (r samlReplay) Remember(ctx context.Context, assertionID string, notOnOrAfter time.Time) error {
	if assertionID == "" {
		return fmt.Errorf("%w: assertion has no ID", idp.ErrInvalidToken)
	}
	if floor := r.now().Add(minReplayHold); notOnOrAfter.Before(floor) {
		notOnOrAfter = floor
	}
	err := r.st.PutEphemeral(ctx, KindSAMLAssertion, SAMLReplayKey(r.provider, assertionID), []byte{1}, notOnOrAfter)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: assertion id seen before", idp.ErrReplay)
	}
	return err
}

// NarrowSAMLForward keeps, in a pool whose mode narrows to the assertion
// (saml-forward), only the granted roles the assertion itself offers (its
// Role attribute) through the pool's IAM SAML provider: STS would refuse
// any other, and the IdP's word on which roles a person may have stands
// beside the pool's rules.
func NarrowSAMLForward(p *Principal, d rules.Decision) rules.Decision {
	if !p.Pool.Spec.NarrowToAssertion {
		return d
	}
	offered := idp.ParseAWSRoles(p.Ident.Claims[idp.AWSRoleAttribute])
	var kept []rules.Grant
	for _, g := range d.Grants {
		for _, o := range offered {
			if o.RoleARN == g.Role && o.ProviderARN == p.Pool.Cfg.SAMLProviderARN {
				g.Provider = o.ProviderARN
				kept = append(kept, g)
				break
			}
		}
	}
	d.Grants = kept
	if len(kept) == 0 {
		d.Source = rules.SourceNone
	}
	return d
}

// SAMLBrokerMetadata is the broker's IdP metadata (`fedgate saml-metadata`
// and GET /saml/idp/metadata). The first call creates the signing key.
func (s *Core) SAMLBrokerMetadata(ctx context.Context) ([]byte, error) {
	b, err := s.saml.brokerIdP(ctx)
	if err != nil {
		return nil, err
	}
	return b.Metadata(ctx)
}

// CognitoBinding is what a Logins assertion is bound to: one pool and one
// identity. It shares the replay cache's entries (kind and key), whose
// ACS and JSON API value is never of this form, so an assertion spent
// there cannot be bound here, and one bound here cannot be spent there.
func CognitoBinding(poolID, identityID string) []byte {
	return []byte("cognito\x00" + poolID + "\x00" + identityID)
}

// cognitoPoolPrefix starts every binding to an identity of the pool.
func cognitoPoolPrefix(poolID string) []byte {
	return []byte("cognito\x00" + poolID + "\x00")
}

// BindAssertion binds a verified assertion to want (a Cognito pool and
// identity) in the shared replay cache until it expires; the same binding
// again is the same use, anything else wraps idp.ErrReplay.
func (s *Core) BindAssertion(ctx context.Context, provider string, ref idp.AssertionRef, want []byte) error {
	if ref.ID == "" {
		return fmt.Errorf("%w: assertion has no ID", idp.ErrReplay)
	}
	until := ref.Until
	if floor := s.now().Add(minReplayHold); until.Before(floor) {
		until = floor
	}
	// Two rounds: an entry that expires between the put and the get is
	// gone, and the second put takes its place.
	for range 2 {
		err := s.store.PutEphemeral(ctx, KindSAMLAssertion, SAMLReplayKey(provider, ref.ID), want, until)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		held, err := s.store.GetEphemeral(ctx, KindSAMLAssertion, SAMLReplayKey(provider, ref.ID), s.now())
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return err
		case bytes.Equal(held, want):
			return nil
		default:
			return fmt.Errorf("%w: assertion %q is bound to another use", idp.ErrReplay, ref.ID)
		}
	}
	return fmt.Errorf("saml replay cache: assertion %q could not be bound", ref.ID)
}

// SAMLReplayCache is the replay cache of one SAML provider over the shared
// store: what its ACS, the JSON API and the Cognito API all spend from.
func SAMLReplayCache(st store.EphemeralStore, now func() time.Time, provider string) idp.ReplayCache {
	return samlReplay{st: st, now: now, provider: provider}
}
