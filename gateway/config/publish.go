package config

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Publish copies the issuer's discovery documents and key set to an S3
// bucket (any S3 endpoint), so that IAM can read them over public https
// while the gateway itself stays private. fedgate writes them at start, after
// a reload that changed the keys or the pool issuers, and during
// `fedgate keys rotate` before the new key is stored. Credentials come from
// the standard AWS chain of the host (role, environment, profile): the file
// holds none.
type Publish struct {
	Bucket string `yaml:"bucket" json:"bucket"`
	// Prefix is prepended to every object key; empty or ending in "/".
	Prefix string `yaml:"prefix" json:"prefix,omitempty"`
	// Region of the bucket; empty takes the AWS chain's (AWS_REGION, profile).
	Region string `yaml:"region" json:"region,omitempty"`
	// Endpoint is an S3-compatible endpoint URL instead of AWS's.
	Endpoint string `yaml:"endpoint" json:"endpoint,omitempty"`
	// PathStyle addresses the bucket as endpoint/bucket/key rather than
	// bucket.endpoint/key (most S3-compatible servers want it).
	PathStyle bool `yaml:"path_style" json:"path_style,omitempty"`
	// IssuerURL is the https URL at which the bucket's Prefix is served
	// (the bucket's own URL or its CDN's). It becomes the issuer of every
	// token; empty keeps server.public_url, for a CDN that serves the
	// public URL's /.well-known paths from the bucket.
	IssuerURL string `yaml:"issuer_url" json:"issuer_url,omitempty"`
	// CacheMaxAge is the Cache-Control max-age of the objects. A rotated
	// key is published at least this long before it signs, so a cache
	// that obeys the header cannot hide it from verifiers.
	CacheMaxAge Duration `yaml:"cache_max_age" json:"cache_max_age,omitempty"`
}

// Bounds of keys.publish.
const (
	DefaultPublishCacheMaxAge = time.Minute
	maxPublishCacheMaxAge     = time.Hour
)

var (
	// bucketPattern is S3's rule for bucket names (3-63 lowercase
	// letters, digits, dots and hyphens; starting and ending alphanumeric).
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// prefixPattern keeps object keys to characters that need no escaping
	// in the URL a verifier fetches.
	prefixPattern = regexp.MustCompile(`^([A-Za-z0-9._~-]+/)*$`)
)

// IssuerBase is the URL the root issuer has: keys.publish.issuer_url when
// set, otherwise server.public_url. Pool issuers are paths below it.
func (f *File) IssuerBase() string {
	if p := f.Keys.Publish; p != nil && p.IssuerURL != "" {
		return p.IssuerURL
	}
	return f.Server.PublicURL
}

func (f *File) applyPublishDefaults() {
	p := f.Keys.Publish
	if p == nil {
		return
	}
	p.IssuerURL = strings.TrimRight(p.IssuerURL, "/")
	if p.CacheMaxAge == 0 {
		p.CacheMaxAge = Duration(DefaultPublishCacheMaxAge)
	}
}

func (f *File) validatePublish(add func(string, string, ...any)) {
	p := f.Keys.Publish
	if p == nil {
		return
	}
	if !bucketPattern.MatchString(p.Bucket) || strings.Contains(p.Bucket, "..") {
		add("keys.publish.bucket", "must be an S3 bucket name (3-63 lowercase letters, digits, '.' or '-')")
	}
	if !prefixPattern.MatchString(p.Prefix) {
		add("keys.publish.prefix", "must be empty or end in '/', e.g. fedgate/ (letters, digits, '.', '_', '~', '-' between slashes)")
	}
	if p.Region != "" && !regionPattern.MatchString(p.Region) {
		add("keys.publish.region", "%q is not an AWS region name", p.Region)
	}
	if p.Endpoint != "" {
		if u, err := url.Parse(p.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			add("keys.publish.endpoint", "must be an http(s) URL without user info")
		}
	}
	if p.IssuerURL != "" {
		validateIssuerURL("keys.publish.issuer_url", p.IssuerURL, add)
	}
	if age := p.CacheMaxAge.D(); age < time.Second || age > maxPublishCacheMaxAge {
		add("keys.publish.cache_max_age", "must be between 1s and 1h")
	}
}
