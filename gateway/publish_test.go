package gateway

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fedgate/exchange/issuer"
	"fedgate/exchange/issuer/publish"
	"fedgate/gateway/config"
)

// recordingPublisher keeps what the core published and fails while err is set.
type recordingPublisher struct {
	mu   sync.Mutex
	docs []issuer.Documents
	err  error
}

func (p *recordingPublisher) Publish(_ context.Context, docs issuer.Documents) ([]publish.Object, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	p.docs = append(p.docs, docs)
	return []publish.Object{{Key: ".well-known/jwks.json"}}, nil
}

func (p *recordingPublisher) Location() string { return "s3://test-bucket/" }

func (p *recordingPublisher) published() []issuer.Documents {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.docs)
}

func kidsOf(d issuer.Documents) []string {
	var out []string
	for _, k := range d.JWKS.Keys {
		out = append(out, k.KeyID)
	}
	slices.Sort(out)
	return out
}

// keys.publish: the gateway does not start without a publication, writes
// the documents of every issuer at start, and again only when a reload
// changed the keys or the pool issuers.
func TestIssuerPublication(t *testing.T) {
	ctx := context.Background()
	h := newGWHarnessURL(t, "https://fedgate.example.com")
	h.cfg.Keys.Publish = &config.Publish{Bucket: "test-bucket", IssuerURL: "https://issuer.example.com/x"}
	newServer := func(pub *recordingPublisher) (*Server, error) {
		return New(ctx, Deps{Config: h.cfg, Store: h.store, Issuer: h.iss, Box: h.box, STS: h.sts,
			Upstream: upstreamClient(t, h.cfg, time.Second), Logger: h.log, Now: h.clock.Now, Rand: h.rand, Publisher: pub})
	}

	if _, err := newServer(&recordingPublisher{err: errors.New("api error AccessDenied")}); err == nil || !strings.Contains(err.Error(), "keys.publish") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("start with a failing publication: err %v, want a refusal naming keys.publish and the cause", err)
	}

	pub := &recordingPublisher{}
	srv, err := newServer(pub)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://issuer.example.com/x", "https://issuer.example.com/x/pools/solo"}
	steps := []struct {
		name      string
		change    func()
		published bool
		issuers   []string
	}{
		{"nothing changed", func() {}, false, nil},
		{"a rotation", func() {
			if _, err := h.iss.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
		}, true, want},
		{"a pool gains an issuer of its own", func() {
			m := h.cfg.Mappings()
			m.Pools = slices.Clone(m.Pools)
			m.Pools[0].OwnIssuer = true
			h.putMappings(m, "test")
			if err := srv.core.Reload(ctx); err != nil {
				t.Fatal(err)
			}
		}, true, []string{"https://issuer.example.com/x", "https://issuer.example.com/x/pools/solo", "https://issuer.example.com/x/pools/team"}},
		{"a failed publication is tried again", func() {
			pub.mu.Lock()
			pub.err = errors.New("timeout")
			pub.mu.Unlock()
			if _, err := h.iss.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := srv.core.PublishIssuer(ctx); err == nil {
				t.Error("a failed publication reported no error")
			}
			pub.mu.Lock()
			pub.err = nil
			pub.mu.Unlock()
		}, true, nil},
	}
	docs := pub.published()
	if len(docs) != 1 || !slices.Equal(docs[0].Issuers, want) || !slices.Equal(kidsOf(docs[0]), []string{h.iss.SigningKeyID()}) {
		t.Fatalf("at start published %+v, want issuers %v with the signing key", docs, want)
	}
	for _, s := range steps {
		before := len(pub.published())
		s.change()
		if err := srv.core.PublishIssuer(ctx); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		docs := pub.published()
		if got := len(docs) > before; got != s.published {
			t.Fatalf("%s: published %v, want %v", s.name, got, s.published)
		}
		if !s.published {
			continue
		}
		last := docs[len(docs)-1]
		if s.issuers != nil && !slices.Equal(last.Issuers, s.issuers) {
			t.Errorf("%s: issuers %v, want %v", s.name, last.Issuers, s.issuers)
		}
		if !slices.Equal(kidsOf(last), kidsOf(issuer.Documents{JWKS: h.iss.JWKS()})) {
			t.Errorf("%s: published keys %v, the issuer serves %v", s.name, kidsOf(last), kidsOf(issuer.Documents{JWKS: h.iss.JWKS()}))
		}
	}
}
