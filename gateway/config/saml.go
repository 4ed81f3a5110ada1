package config

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"time"
)

// SAML: the saml provider type and fedgate as a SAML IdP for IAM (the
// saml-broker mode).

// ProviderSAML is the provider type of upstream SAML IdPs.
const ProviderSAML = "saml"

const (
	// DefaultSAMLSignInURL is where AWS consumes SAML responses; it is the
	// Destination, Recipient and Audience of the broker's responses.
	DefaultSAMLSignInURL = "https://signin.aws.amazon.com/saml"
	// DefaultSAMLAssertionTTL bounds the broker's responses.
	DefaultSAMLAssertionTTL = 5 * time.Minute
)

// SAMLProvider holds the fields of a `saml` provider; they are inlined in
// Provider.
type SAMLProvider struct {
	// IdPMetadataURL is the IdP's metadata, refreshed every MetadataRefresh
	// (the last good copy is kept when a refresh fails).
	IdPMetadataURL string `yaml:"idp_metadata_url" json:"idp_metadata_url,omitempty"`
	// IdPMetadata is the IdP's metadata XML inline, instead of a URL.
	IdPMetadata string `yaml:"idp_metadata" json:"idp_metadata,omitempty"`
	// EntityID is fedgate's SP entity id (default: the SP metadata URL,
	// <public_url>/saml/metadata/<id>).
	EntityID string `yaml:"entity_id" json:"entity_id,omitempty"`
	// ACSURL is where the IdP posts its responses, their required
	// Destination and Recipient (default <public_url>/saml/acs/<id>). A
	// saml-forward provider facing real AWS sets it to AWS's sign-in URL
	// and entity_id to urn:amazon:webservices, and apps hand the response
	// to the JSON API (STS checks Recipient and audience itself).
	ACSURL string `yaml:"acs_url" json:"acs_url,omitempty"`
	// SPKey and SPCertificate (PEM) sign AuthnRequests and decrypt
	// encrypted assertions; optional, both or neither.
	SPKey         string `yaml:"sp_key" json:"sp_key,omitempty"`
	SPCertificate string `yaml:"sp_certificate" json:"sp_certificate,omitempty"`
	// AllowIdPInitiated accepts unsolicited responses.
	AllowIdPInitiated bool     `yaml:"allow_idp_initiated" json:"allow_idp_initiated,omitempty"`
	MetadataRefresh   Duration `yaml:"metadata_refresh" json:"metadata_refresh,omitempty"`
	// NameIDFormat is asked for in AuthnRequests (default: none).
	NameIDFormat string `yaml:"name_id_format" json:"name_id_format,omitempty"`
}

// SAMLBroker configures fedgate as a SAML IdP registered in IAM (the
// saml-broker mode).
type SAMLBroker struct {
	// EntityID is the Issuer of fedgate's responses (default
	// <public_url>/saml/idp).
	EntityID string `yaml:"entity_id" json:"entity_id,omitempty"`
	// SignInURL is the Destination, Recipient and Audience (default
	// https://signin.aws.amazon.com/saml).
	SignInURL    string   `yaml:"signin_url" json:"signin_url,omitempty"`
	AssertionTTL Duration `yaml:"assertion_ttl" json:"assertion_ttl,omitempty"`
}

// SAMLACSURL is where a saml provider's IdP posts its responses.
func (f *File) SAMLACSURL(providerID string) string {
	return f.Server.PublicURL + "/saml/acs/" + providerID
}

// SAMLMetadataURL is where fedgate serves a saml provider's SP metadata.
func (f *File) SAMLMetadataURL(providerID string) string {
	return f.Server.PublicURL + "/saml/metadata/" + providerID
}

// SAMLIdPMetadataURL is where fedgate serves its broker IdP metadata.
func (f *File) SAMLIdPMetadataURL() string { return f.Server.PublicURL + "/saml/idp/metadata" }

func (f *File) applySAMLDefaults() {
	if f.SAMLBroker.EntityID == "" {
		f.SAMLBroker.EntityID = f.Server.PublicURL + "/saml/idp"
	}
	if f.SAMLBroker.SignInURL == "" {
		f.SAMLBroker.SignInURL = DefaultSAMLSignInURL
	}
	if f.SAMLBroker.AssertionTTL == 0 {
		f.SAMLBroker.AssertionTTL = Duration(DefaultSAMLAssertionTTL)
	}
	for i := range f.Providers {
		p := &f.Providers[i]
		if p.Type == ProviderSAML && p.EntityID == "" {
			p.EntityID = f.SAMLMetadataURL(p.ID)
		}
		if p.Type == ProviderSAML && p.ACSURL == "" {
			p.ACSURL = f.SAMLACSURL(p.ID)
		}
	}
}

// validateSAMLProvider checks one `saml` provider.
func validateSAMLProvider(at string, p *Provider, add func(string, string, ...any)) {
	switch {
	case p.IdPMetadataURL == "" && p.IdPMetadata == "":
		add(at+".idp_metadata_url", "a saml provider needs idp_metadata_url or idp_metadata (inline XML)")
	case p.IdPMetadataURL != "" && p.IdPMetadata != "":
		add(at+".idp_metadata", "give idp_metadata_url or idp_metadata, not both")
	case p.IdPMetadataURL != "":
		if u, err := url.Parse(p.IdPMetadataURL); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
			add(at+".idp_metadata_url", "must be an https URL (http only on loopback)")
		}
	}
	if u, err := url.Parse(p.EntityID); err != nil || !u.IsAbs() {
		add(at+".entity_id", "must be an absolute URI")
	}
	if u, err := url.Parse(p.ACSURL); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		add(at+".acs_url", "must be an https URL (http only on loopback)")
	}
	if (p.SPKey == "") != (p.SPCertificate == "") {
		add(at+".sp_key", "give sp_key and sp_certificate together (PEM), or neither")
	} else if p.SPKey != "" {
		if _, _, err := ParseSPKeyPair(p.SPKey, p.SPCertificate); err != nil {
			add(at+".sp_key", "%v", err)
		}
	}
	if p.ClockSkew.D() < 0 || p.ClockSkew.D() > 5*time.Minute {
		add(at+".clock_skew", "must be between 0 and 5m")
	}
	if r := p.MetadataRefresh.D(); r != 0 && (r < time.Minute || r > 7*24*time.Hour) {
		add(at+".metadata_refresh", "must be between 1m and 168h")
	}
	if p.Issuer != "" || p.ClientID != "" || p.ClientSecret != "" || len(p.Users) > 0 {
		add(at, "issuer, client_id, client_secret and users do not belong to saml providers")
	}
}

// samlFieldsOutside reports saml fields set on a provider of another type.
func samlFieldsOutside(at string, p *Provider, add func(string, string, ...any)) {
	if p.IdPMetadataURL != "" || p.IdPMetadata != "" || p.SPKey != "" || p.SPCertificate != "" || p.AllowIdPInitiated {
		add(at, "idp_metadata_url, idp_metadata, sp_key, sp_certificate and allow_idp_initiated belong to saml providers")
	}
}

// ParseSPKeyPair reads a PEM private key (PKCS#8, PKCS#1 or EC) and its
// certificate, and checks they belong together.
func ParseSPKeyPair(keyPEM, certPEM string) (crypto.Signer, *x509.Certificate, error) {
	kb, _ := pem.Decode([]byte(keyPEM))
	if kb == nil {
		return nil, nil, fmt.Errorf("sp_key is not PEM")
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
		return nil, nil, fmt.Errorf("sp_key is not a private key")
	}
	cb, _ := pem.Decode([]byte(certPEM))
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, nil, fmt.Errorf("sp_certificate is not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("sp_certificate is not a valid certificate")
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("sp_key cannot sign")
	}
	if eq, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(signer.Public()) {
		return nil, nil, fmt.Errorf("sp_certificate does not match sp_key")
	}
	return signer, cert, nil
}

func (f *File) validateSAMLBroker(add func(string, string, ...any)) {
	b := &f.SAMLBroker
	if u, err := url.Parse(b.EntityID); err != nil || !u.IsAbs() {
		add("saml_broker.entity_id", "must be an absolute URI")
	}
	if u, err := url.Parse(b.SignInURL); err != nil || u.Scheme != "https" || u.Host == "" {
		add("saml_broker.signin_url", "must be an https URL (AWS: %s)", DefaultSAMLSignInURL)
	}
	if ttl := b.AssertionTTL.D(); ttl < time.Minute || ttl > 10*time.Minute {
		add("saml_broker.assertion_ttl", "must be between 1m and 10m")
	}
}
