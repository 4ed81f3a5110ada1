package saml

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/url"
	"time"

	"fedgate/idp"
	"fedgate/idp/settings"
)

// Type is the `saml` provider type.
func Type() idp.Type {
	return idp.Type{
		Name:    "saml",
		Title:   "SAML 2.0",
		Summary: "A SAML 2.0 IdP: SP-initiated sign-in (HTTP-Redirect request, HTTP-POST response); IdP-initiated only when allowed.",
		New:     func() idp.Config { return &Settings{} },
	}
}

// Settings is a saml provider's entry in the configuration.
type Settings struct {
	IdPMetadataURL string `yaml:"idp_metadata_url" json:"idp_metadata_url,omitempty" label:"IdP metadata URL" help:"The IdP's metadata URL, refreshed every metadata_refresh (the last good copy is kept)."`
	IdPMetadata    string `yaml:"idp_metadata" json:"idp_metadata,omitempty" label:"IdP metadata XML" form:"block" help:"The IdP's metadata XML, instead of a URL."`
	EntityID       string `yaml:"entity_id" json:"entity_id,omitempty" label:"SP entity id" help:"fedgate's SP entity id (default: <public_url>/saml/metadata/<id>)."`
	// ACSURL is the required Destination and Recipient of responses. A
	// saml-forward provider facing real AWS sets it to AWS's sign-in URL
	// and entity_id to urn:amazon:webservices.
	ACSURL            string             `yaml:"acs_url" json:"acs_url,omitempty" label:"Assertion consumer service URL" help:"Where the IdP posts responses (default: <public_url>/saml/acs/<id>)."`
	SPKey             string             `yaml:"sp_key" json:"sp_key,omitempty" label:"SP private key (PEM)" secret:"true" form:"block" help:"PEM private key that signs AuthnRequests and decrypts assertions (optional, with sp_certificate)."`
	SPCertificate     string             `yaml:"sp_certificate" json:"sp_certificate,omitempty" label:"SP certificate (PEM)" form:"block" help:"PEM certificate of sp_key."`
	AllowIdPInitiated bool               `yaml:"allow_idp_initiated" json:"allow_idp_initiated,omitempty" label:"Accept IdP-initiated sign-ins (unsolicited responses)" help:"Accept sign-ins started at the IdP (unsolicited responses)."`
	MetadataRefresh   settings.Duration  `yaml:"metadata_refresh" json:"metadata_refresh,omitempty" label:"Metadata refresh" help:"How often idp_metadata_url is fetched again (1m to 168h; default 1h)."`
	NameIDFormat      string             `yaml:"name_id_format" json:"name_id_format,omitempty" label:"NameID format" help:"NameID format asked for in AuthnRequests (default: none)."`
	ClockSkew         *settings.Duration `yaml:"clock_skew" json:"clock_skew,omitempty" label:"Clock skew" help:"Clock skew tolerated on assertion times (0 to 5m; default 1m)."`
}

// ApplyDefaults derives fedgate's SP endpoints from the public URL.
func (s *Settings) ApplyDefaults(site idp.Site) {
	if s.EntityID == "" {
		s.EntityID = MetadataURL(site)
	}
	if s.ACSURL == "" {
		s.ACSURL = site.PublicURL + "/saml/acs/" + site.ID
	}
	if s.ClockSkew == nil {
		d := settings.Duration(defaultClockSkew)
		s.ClockSkew = &d
	}
}

// MetadataURL is where fedgate serves the SP metadata of a saml provider.
func MetadataURL(site idp.Site) string { return site.PublicURL + "/saml/metadata/" + site.ID }

// Validate reports every problem of the entry.
func (s *Settings) Validate(idp.Site) settings.Problems {
	var ps settings.Problems
	switch {
	case s.IdPMetadataURL == "" && s.IdPMetadata == "":
		ps.Add("idp_metadata_url", "a saml provider needs idp_metadata_url or idp_metadata (inline XML)")
	case s.IdPMetadataURL != "" && s.IdPMetadata != "":
		ps.Add("idp_metadata", "give idp_metadata_url or idp_metadata, not both")
	case s.IdPMetadataURL != "":
		ps.CheckUpstreamURL("idp_metadata_url", s.IdPMetadataURL)
	}
	if u, err := url.Parse(s.EntityID); err != nil || !u.IsAbs() {
		ps.Add("entity_id", "must be an absolute URI")
	}
	ps.CheckUpstreamURL("acs_url", s.ACSURL)
	if (s.SPKey == "") != (s.SPCertificate == "") {
		ps.Add("sp_key", "give sp_key and sp_certificate together (PEM), or neither")
	} else if s.SPKey != "" {
		if _, _, err := ParseSPKeyPair(s.SPKey, s.SPCertificate); err != nil {
			ps.Add("sp_key", "%v", err)
		}
	}
	ps.CheckClockSkew("clock_skew", s.ClockSkew)
	if r := s.MetadataRefresh.D(); r != 0 && (r < time.Minute || r > 7*24*time.Hour) {
		ps.Add("metadata_refresh", "must be between 1m and 168h")
	}
	return ps
}

// Open builds the provider; metadata by URL is fetched now and refreshed later.
func (s *Settings) Open(ctx context.Context, env idp.Env) (idp.Provider, error) {
	cfg := Config{
		ID: env.ID, DisplayName: env.DisplayName,
		IdPMetadataURL: s.IdPMetadataURL, EntityID: s.EntityID,
		ACSURL: s.ACSURL, MetadataURL: MetadataURL(env.Site),
		AllowIdPInitiated: s.AllowIdPInitiated, ClockSkew: settings.DurationOr(s.ClockSkew, defaultClockSkew),
		RefreshInterval: s.MetadataRefresh.D(), NameIDFormat: s.NameIDFormat,
		Rand: env.Rand,
	}
	if s.IdPMetadata != "" {
		cfg.IdPMetadataXML = []byte(s.IdPMetadata)
	}
	if s.SPKey != "" {
		key, cert, err := ParseSPKeyPair(s.SPKey, s.SPCertificate)
		if err != nil {
			return nil, err
		}
		cfg.SigningKey, cfg.Certificate = key, cert
	}
	return New(ctx, cfg, env.HTTP, env.Now, env.Replay)
}

// IdPInitiated tells whether sign-ins started at the IdP are accepted.
func (s *Settings) IdPInitiated() bool { return s.AllowIdPInitiated }

// ParseSPKeyPair reads a PEM private key (PKCS#8, PKCS#1 or EC) and its
// certificate, and checks they belong together.
func ParseSPKeyPair(keyPEM, certPEM string) (crypto.Signer, *x509.Certificate, error) {
	kb, _ := pem.Decode([]byte(keyPEM))
	if kb == nil {
		return nil, nil, errors.New("sp_key is not PEM")
	}
	var key any
	var err error
	switch kb.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	}
	if err != nil {
		return nil, nil, errors.New("sp_key is not a private key")
	}
	cb, _ := pem.Decode([]byte(certPEM))
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, nil, errors.New("sp_certificate is not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, errors.New("sp_certificate is not a valid certificate")
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("sp_key cannot sign")
	}
	if eq, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(signer.Public()) {
		return nil, nil, errors.New("sp_certificate does not match sp_key")
	}
	return signer, cert, nil
}
