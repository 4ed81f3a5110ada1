// Package saml is the upstream SAML 2.0 provider type, for which fedgate is
// the service provider: AuthnRequests over HTTP-Redirect, responses over
// HTTP-POST, verified strictly.
package saml

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	crewsaml "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"fedgate/idp"
	"fedgate/idp/internal/httpcap"
)

const (
	// DefaultResponseBytes caps a posted SAMLResponse (decoded XML);
	// real responses are a few KiB, AWS takes at most 100000 characters.
	DefaultResponseBytes = 256 << 10
	// MaxClockSkew is the largest per-provider clock skew accepted.
	MaxClockSkew = 5 * time.Minute
	// DefaultMetadataRefresh is how often metadata fetched by URL is
	// refreshed when RefreshInterval is not set.
	DefaultMetadataRefresh = time.Hour
	// maxSAMLMetadataBytes caps IdP metadata (a single entity, or a small
	// EntitiesDescriptor; federation aggregates are not supported).
	maxSAMLMetadataBytes = 1 << 20
	// samlMetadataRetryInterval is the floor between fetches after a failed
	// refresh, so a down metadata server costs one slow request per
	// interval, not one per sign-in.
	samlMetadataRetryInterval = 30 * time.Second
	minSAMLMetadataRefresh    = time.Minute
	defaultClockSkew          = time.Minute
)

// Config configures one upstream SAML 2.0 identity provider, for which
// fedgate is the service provider (SP).
type Config struct {
	ID, DisplayName string
	// IdPMetadataURL is fetched with the injected client (https, or http on
	// loopback only; 1 MiB cap), refreshed every RefreshInterval; when a
	// refresh fails the last good copy stays in use.
	IdPMetadataURL string
	// IdPMetadataXML is the inline alternative to IdPMetadataURL.
	IdPMetadataXML []byte
	// EntityID is fedgate's SP entity id: the audience assertions must name.
	EntityID string
	// ACSURL is fedgate's assertion consumer service URL; the Response
	// Destination and the bearer SubjectConfirmationData Recipient must
	// equal it.
	ACSURL string
	// MetadataURL is where fedgate serves this SP's metadata.
	MetadataURL string
	// SigningKey and Certificate sign AuthnRequests (RSA-SHA256 or
	// ECDSA-SHA256) and, for an RSA key, decrypt encrypted assertions.
	// Both optional, but both or neither.
	SigningKey  crypto.Signer
	Certificate *x509.Certificate
	// AllowIdPInitiated accepts unsolicited responses (no InResponseTo).
	AllowIdPInitiated bool
	// ClockSkew tolerated on NotBefore / NotOnOrAfter / IssueInstant,
	// exactly (0 is none; at most 5m).
	ClockSkew time.Duration
	// RefreshInterval for IdPMetadataURL (default 1h, at least 1m).
	RefreshInterval time.Duration
	// MaxResponseBytes caps the decoded response XML, and the posted
	// base64 at the matching encoded length (default 256 KiB).
	MaxResponseBytes int
	// AllowSHA1Signatures accepts rsa-sha1 signatures and sha1 digests.
	// Off by default: SHA-1 is refused (SHAttered, 2017).
	AllowSHA1Signatures bool
	// NameIDFormat is the NameIDPolicy Format asked for in AuthnRequests;
	// empty asks for none (unspecified), which every IdP can honour.
	NameIDFormat string
	// Rand is the source of AuthnRequest IDs (default crypto/rand).
	// crewjam/saml draws its own ID (and, for ECDSA, signing randomness)
	// from its package-level RandReader, which fedgate leaves alone: the
	// ID it draws is replaced by one from Rand before the request is
	// encoded and signed.
	Rand io.Reader
}

// ReplayCache remembers assertion ids across replicas.
type ReplayCache = idp.ReplayCache

// Provider is an upstream SAML 2.0 IdP. It implements idp.Provider and
// idp.AssertionLogin. Verification is crewjam/saml's, made strict, followed
// by fedgate's own checks (see ConsumeResponse).
type Provider struct {
	cfg         Config
	client      *http.Client
	now         func() time.Time
	replay      ReplayCache
	acs         url.URL
	metadataURL url.URL
	sigMethod   string

	mu          sync.Mutex
	meta        *crewsaml.EntityDescriptor // last good copy, never mutated
	fetchedAt   time.Time
	lastAttempt time.Time
	lastErr     error
	failures    int // consecutive failed fetches since the last good one
	refreshing  bool
}

var (
	_ idp.Provider       = (*Provider)(nil)
	_ idp.AssertionLogin = (*Provider)(nil)
)

// New validates cfg (reporting every problem at once) and loads the IdP
// metadata: inline XML must parse; a URL gets one attempt bounded by ctx,
// and a failure is retried on use and reported by Ready. client is used for
// metadata fetches only; give it a timeout. now defaults to time.Now.
func New(ctx context.Context, cfg Config, client *http.Client, now func() time.Time, replay ReplayCache) (*Provider, error) {
	if now == nil {
		now = time.Now
	}
	cfg, acs, metaURL, sigMethod, err := normalizeConfig(cfg)
	if client == nil && cfg.IdPMetadataURL != "" {
		err = errors.Join(err, errors.New("an HTTP client is required to fetch metadata"))
	}
	if replay == nil {
		err = errors.Join(err, errors.New("a replay cache is required"))
	}
	var inline *crewsaml.EntityDescriptor
	if err == nil && len(cfg.IdPMetadataXML) > 0 {
		var perr error
		if inline, perr = parseIdPMetadata(cfg.IdPMetadataXML); perr != nil {
			err = fmt.Errorf("idp metadata: %w", perr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: saml provider %q: %w", idp.ErrInvalidConfig, cfg.ID, err)
	}
	s := &Provider{cfg: cfg, now: now, replay: replay, acs: acs, metadataURL: metaURL, sigMethod: sigMethod, meta: inline}
	if client != nil {
		s.client = httpcap.Capped(client, maxSAMLMetadataBytes)
	}
	if inline == nil {
		_, _ = s.metadata(ctx) // failure is remembered and surfaced by Ready
	}
	return s, nil
}

func normalizeConfig(cfg Config) (Config, url.URL, url.URL, string, error) {
	var errs []error
	if cfg.ID == "" {
		errs = append(errs, errors.New("id is required"))
	}
	if cfg.EntityID == "" {
		errs = append(errs, errors.New("entity id is required"))
	}
	acs, err := absoluteURL("acs url", cfg.ACSURL)
	if err != nil {
		errs = append(errs, err)
	}
	metaURL, err := absoluteURL("metadata url", cfg.MetadataURL)
	if err != nil {
		errs = append(errs, err)
	}
	switch {
	case cfg.IdPMetadataURL == "" && len(cfg.IdPMetadataXML) == 0:
		errs = append(errs, errors.New("idp metadata url or inline idp metadata xml is required"))
	case cfg.IdPMetadataURL != "" && len(cfg.IdPMetadataXML) > 0:
		errs = append(errs, errors.New("give idp metadata url or inline idp metadata xml, not both"))
	case cfg.IdPMetadataURL != "":
		if err := checkMetadataURL(cfg.IdPMetadataURL); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.ClockSkew < 0 || cfg.ClockSkew > MaxClockSkew {
		errs = append(errs, fmt.Errorf("clock skew must be between 0 and %s", MaxClockSkew))
	}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = DefaultMetadataRefresh
	}
	if cfg.RefreshInterval < minSAMLMetadataRefresh {
		errs = append(errs, fmt.Errorf("metadata refresh interval must be at least %s", minSAMLMetadataRefresh))
	}
	if cfg.MaxResponseBytes < 0 {
		errs = append(errs, errors.New("max response bytes must not be negative"))
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultResponseBytes
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	sigMethod, err := signatureMethodFor(cfg.SigningKey, cfg.Certificate)
	if err != nil {
		errs = append(errs, err)
	}
	return cfg, acs, metaURL, sigMethod, errors.Join(errs...)
}

func absoluteURL(what, raw string) (url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || raw == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return url.URL{}, fmt.Errorf("%s %q must be an absolute http(s) URL without fragment", what, raw)
	}
	return *u, nil
}

// checkMetadataURL allows https, and http only to a loopback host: the
// metadata names the keys whose signatures are trusted, so it must not
// cross a network in the clear.
func checkMetadataURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("idp metadata url %q must be an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("idp metadata url %q must be https (http is allowed on loopback only)", raw)
}

// signatureMethodFor picks SHA-256 signing for the SP key, or none.
func signatureMethodFor(key crypto.Signer, cert *x509.Certificate) (string, error) {
	if key == nil && cert == nil {
		return "", nil
	}
	if key == nil || cert == nil {
		return "", errors.New("signing key and certificate go together")
	}
	if !publicKeysEqual(key.Public(), cert.PublicKey) {
		return "", errors.New("certificate does not match the signing key")
	}
	switch key.Public().(type) {
	case *rsa.PublicKey:
		return dsig.RSASHA256SignatureMethod, nil
	case *ecdsa.PublicKey:
		return dsig.ECDSASHA256SignatureMethod, nil
	}
	return "", errors.New("signing key must be RSA or ECDSA")
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// ID returns the provider id from the config.
func (s *Provider) ID() string { return s.cfg.ID }

// Type returns "saml".
func (s *Provider) Type() string { return "saml" }

// DisplayName returns the name shown on the sign-in page.
func (s *Provider) DisplayName() string { return s.cfg.DisplayName }

// EntityID returns fedgate's SP entity id for this provider.
func (s *Provider) EntityID() string { return s.cfg.EntityID }

// Ready reports whether IdP metadata is loaded (wrapping idp.ErrUpstream if
// not). A failing refresh with a good copy in hand is not an error; see
// LastRefreshError.
func (s *Provider) Ready(ctx context.Context) error {
	_, err := s.metadata(ctx)
	return err
}

// LastRefreshError is the error of the last metadata fetch, nil if it
// succeeded (or metadata is inline). Sign-ins keep using the last good copy.
func (s *Provider) LastRefreshError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// IdPEntityID is the entity id of the loaded IdP metadata, "" if none.
func (s *Provider) IdPEntityID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return ""
	}
	return s.meta.EntityID
}

// metadata returns the current IdP metadata, refreshing it first when it
// is due. One caller refreshes at a time; the others keep using the last
// good copy meanwhile.
func (s *Provider) metadata(ctx context.Context) (*crewsaml.EntityDescriptor, error) {
	s.mu.Lock()
	meta := s.meta
	if s.cfg.IdPMetadataURL == "" {
		s.mu.Unlock()
		return meta, nil
	}
	now := s.now()
	due := meta == nil || !now.Before(s.fetchedAt.Add(s.cfg.RefreshInterval)) || now.Before(s.fetchedAt)
	backoff := !s.lastAttempt.IsZero() && now.Sub(s.lastAttempt) >= 0 && now.Sub(s.lastAttempt) < samlMetadataRetryInterval
	if !due || s.refreshing || backoff {
		lastErr := s.lastErr
		s.mu.Unlock()
		if meta == nil {
			if lastErr == nil {
				lastErr = fmt.Errorf("%w: saml metadata is being fetched", idp.ErrUpstream)
			}
			return nil, lastErr
		}
		return meta, nil
	}
	s.refreshing, s.lastAttempt = true, now
	s.mu.Unlock()

	fresh, err := s.fetchMetadata(ctx)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshing = false
	if err != nil {
		s.lastErr = fmt.Errorf("%w: saml metadata from %s: %w", idp.ErrUpstream, s.cfg.IdPMetadataURL, err)
		s.failures++
		if s.meta == nil {
			return nil, s.lastErr
		}
		return s.meta, nil
	}
	s.meta, s.fetchedAt, s.lastErr, s.failures = fresh, now, nil, 0
	return fresh, nil
}

func (s *Provider) fetchMetadata(ctx context.Context) (*crewsaml.EntityDescriptor, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.IdPMetadataURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return parseIdPMetadata(body)
}

// parseIdPMetadata reads an EntityDescriptor, or an EntitiesDescriptor
// holding exactly one IdP entity, and requires an entity id and at least
// one usable signing certificate.
func parseIdPMetadata(data []byte) (*crewsaml.EntityDescriptor, error) {
	if len(data) > maxSAMLMetadataBytes {
		return nil, fmt.Errorf("metadata is %d bytes, limit %d", len(data), maxSAMLMetadataBytes)
	}
	var root struct{ XMLName xml.Name }
	if err := xml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("metadata is not XML: %w", err)
	}
	const mdNS = "urn:oasis:names:tc:SAML:2.0:metadata"
	var entity *crewsaml.EntityDescriptor
	switch root.XMLName {
	case xml.Name{Space: mdNS, Local: "EntityDescriptor"}:
		entity = &crewsaml.EntityDescriptor{}
		if err := xml.Unmarshal(data, entity); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
	case xml.Name{Space: mdNS, Local: "EntitiesDescriptor"}:
		var all crewsaml.EntitiesDescriptor
		if err := xml.Unmarshal(data, &all); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		idps := collectIdPEntities(&all, nil)
		if len(idps) != 1 {
			return nil, fmt.Errorf("metadata holds %d identity provider entities, want exactly 1", len(idps))
		}
		entity = idps[0]
	default:
		return nil, fmt.Errorf("metadata root is %s, want md:EntityDescriptor", root.XMLName.Local)
	}
	if entity.EntityID == "" {
		return nil, errors.New("metadata has no entityID")
	}
	if len(entity.IDPSSODescriptors) == 0 {
		return nil, errors.New("metadata has no IDPSSODescriptor")
	}
	certs := 0
	for _, d := range entity.IDPSSODescriptors {
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				if _, err := parseMetadataCert(c.Data); err != nil {
					return nil, fmt.Errorf("metadata signing certificate: %w", err)
				}
				certs++
			}
		}
	}
	if certs == 0 {
		return nil, errors.New("metadata names no signing certificate")
	}
	return entity, nil
}

func collectIdPEntities(all *crewsaml.EntitiesDescriptor, out []*crewsaml.EntityDescriptor) []*crewsaml.EntityDescriptor {
	for i := range all.EntityDescriptors {
		if len(all.EntityDescriptors[i].IDPSSODescriptors) > 0 {
			out = append(out, &all.EntityDescriptors[i])
		}
	}
	for i := range all.EntitiesDescriptors {
		out = collectIdPEntities(&all.EntitiesDescriptors[i], out)
	}
	return out
}

func parseMetadataCert(data string) (*x509.Certificate, error) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, data)
	der, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// serviceProvider is a crewjam SP for one call, at the given time: crewjam
// reads its clock from the struct, so a copy per call keeps calls apart.
func (s *Provider) serviceProvider(meta *crewsaml.EntityDescriptor, at time.Time) *crewsaml.ServiceProvider {
	nameIDFormat := crewsaml.UnspecifiedNameIDFormat
	if s.cfg.NameIDFormat != "" {
		nameIDFormat = crewsaml.NameIDFormat(s.cfg.NameIDFormat)
	}
	return &crewsaml.ServiceProvider{
		EntityID:                         s.cfg.EntityID,
		Key:                              s.cfg.SigningKey,
		Certificate:                      s.cfg.Certificate,
		MetadataURL:                      s.metadataURL,
		AcsURL:                           s.acs,
		IDPMetadata:                      meta,
		AuthnNameIDFormat:                nameIDFormat,
		AllowIDPInitiated:                s.cfg.AllowIdPInitiated,
		SignatureMethod:                  s.sigMethod,
		AssertionConsumerServiceBindings: []string{crewsaml.HTTPPostBinding},
		Clock:                            dsig.NewFakeClockAt(at),
		// Trust comes from the metadata, which is refreshed; certificates in
		// it are key containers (SAML V2.0 Metadata Interoperability
		// Profile §2.6.1), as AWS IAM also treats them.
		IgnoreCertificateExpiry: true,
		RejectSHA1Signatures:    !s.cfg.AllowSHA1Signatures,
		// saml-core §2.5.1.1: an assertion with a condition we do not
		// understand is Indeterminate and MUST be rejected.
		RejectUnknownConditions: true,
		// Only the first AuthnRequest form is used; keep RelayState within
		// the 80 bytes the bindings allow.
		LimitRelayStateLength: true,
	}
}

// AuthnRequestURL builds the HTTP-Redirect binding URL for the IdP's
// single sign-on service, with RelayState f.State, signed when a signing
// key is configured. requestID must be kept in the flow. The
// idp.AssertionLogin interface carries no context; callers that have one
// use AuthnRequestURLContext (the gateway does).
func (s *Provider) AuthnRequestURL(f idp.Flow) (string, string, error) {
	return s.AuthnRequestURLContext(context.Background(), f)
}

// AuthnRequestURLContext is AuthnRequestURL with ctx bounding a metadata
// refresh that falls due (rarely: the gateway refreshes on a schedule).
func (s *Provider) AuthnRequestURLContext(ctx context.Context, f idp.Flow) (string, string, error) {
	if f.State == "" {
		return "", "", fmt.Errorf("%w: flow has no state", idp.ErrUnsupportedFlow)
	}
	meta, err := s.metadata(ctx)
	if err != nil {
		return "", "", err
	}
	sp := s.serviceProvider(meta, s.now())
	dest := sp.GetSSOBindingLocation(crewsaml.HTTPRedirectBinding)
	if dest == "" {
		return "", "", fmt.Errorf("%w: idp metadata has no HTTP-Redirect SingleSignOnService", idp.ErrUnsupportedFlow)
	}
	req, err := sp.MakeAuthenticationRequest(dest, crewsaml.HTTPRedirectBinding, crewsaml.HTTPPostBinding)
	if err != nil {
		return "", "", fmt.Errorf("%w: authn request: %w", idp.ErrInvalidConfig, err)
	}
	// For HTTP-Redirect nothing is signed yet: Redirect encodes and signs
	// the request as it is now, with fedgate's ID.
	var id [20]byte
	if _, err := io.ReadFull(s.cfg.Rand, id[:]); err != nil {
		return "", "", fmt.Errorf("authn request id: %w", err)
	}
	req.ID = fmt.Sprintf("id-%x", id)
	u, err := req.Redirect(f.State, sp)
	if err != nil {
		return "", "", fmt.Errorf("%w: authn request: %w", idp.ErrInvalidConfig, err)
	}
	return u.String(), req.ID, nil
}

// SPMetadata is fedgate's SP metadata for this provider: entity id, the
// HTTP-POST ACS, signing (and, for RSA, encryption) certificate,
// AuthnRequestsSigned and WantAssertionsSigned.
func (s *Provider) SPMetadata() ([]byte, error) {
	// The IdP metadata is not needed to describe the SP.
	sp := s.serviceProvider(nil, s.now())
	out, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sp metadata: %w", err)
	}
	return append([]byte(xml.Header), out...), nil
}
