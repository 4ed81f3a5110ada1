package config

import (
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
