package issuer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// AWS claim names and limits for session tags and source identity.
const (
	ClaimTags           = "https://aws.amazon.com/tags"
	ClaimSourceIdentity = "https://aws.amazon.com/source_identity"

	maxTags           = 50
	maxTagKeyLen      = 128
	maxTagValueLen    = 256
	minSourceIdentity = 2
	maxSourceIdentity = 64
)

// Token is what one minted JWT says.
type Token struct {
	Issuer            string // "" = the root issuer URL; else a per-pool issuer URL (URL + "/pools/<name>")
	Subject           string
	Audience          string
	AMR               []string
	Tags              map[string]string // session tags, -> "https://aws.amazon.com/tags"
	TransitiveTagKeys []string
	SourceIdentity    string        // -> "https://aws.amazon.com/source_identity"
	TTL               time.Duration // 0 = the issuer's default; capped at MaxTokenTTL
	// PrincipalTags are a developer login's attributes, -> ClaimPrincipalTags.
	PrincipalTags map[string]string
}

// claims is the JWT payload. Times are integer seconds, as STS requires.
type claims struct {
	Issuer         string            `json:"iss"`
	Subject        string            `json:"sub"`
	Audience       string            `json:"aud"`
	AMR            []string          `json:"amr,omitempty"`
	IssuedAt       int64             `json:"iat"`
	NotBefore      int64             `json:"nbf"`
	Expiry         int64             `json:"exp"`
	ID             string            `json:"jti"`
	Tags           *tagsClaim        `json:"https://aws.amazon.com/tags,omitempty"`
	SourceIdentity string            `json:"https://aws.amazon.com/source_identity,omitempty"`
	PrincipalTags  map[string]string `json:"fedgate:principal_tags,omitempty"`
}

type tagsClaim struct {
	PrincipalTags     map[string][]string `json:"principal_tags"`
	TransitiveTagKeys []string            `json:"transitive_tag_keys,omitempty"`
}

// Mint signs a token with the current key.
func (i *Issuer) Mint(_ context.Context, t Token) (string, error) {
	set := i.snapshot.Load()
	c, err := i.claimsFor(t)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("issuer: encode claims: %w", err)
	}
	jws, err := set.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("issuer: sign with key %q: %w", set.kid, err)
	}
	return jws.CompactSerialize()
}

func (i *Issuer) claimsFor(t Token) (*claims, error) {
	iss, err := i.issuerFor(t.Issuer)
	if err != nil {
		return nil, err
	}
	if t.Subject == "" || t.Audience == "" {
		return nil, fmt.Errorf("%w: subject and audience are required", ErrInvalidToken)
	}
	tags, err := tagsFor(t.Tags, t.TransitiveTagKeys)
	if err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(t.SourceIdentity); t.SourceIdentity != "" && (n < minSourceIdentity || n > maxSourceIdentity) {
		return nil, fmt.Errorf("%w: source identity must be %d-%d characters", ErrInvalidToken, minSourceIdentity, maxSourceIdentity)
	}
	ttl := t.TTL
	switch {
	case ttl < 0:
		return nil, fmt.Errorf("%w: negative TTL", ErrInvalidToken)
	case ttl == 0:
		ttl = i.opts.TokenTTL
	case ttl > MaxTokenTTL:
		ttl = MaxTokenTTL
	}
	jti, err := randomID(i.opts.Rand)
	if err != nil {
		return nil, err
	}
	now := i.opts.Now()
	return &claims{
		Issuer:         iss,
		Subject:        t.Subject,
		Audience:       t.Audience,
		AMR:            t.AMR,
		IssuedAt:       now.Unix(),
		NotBefore:      now.Unix(),
		Expiry:         now.Add(ttl).Unix(),
		ID:             jti,
		Tags:           tags,
		SourceIdentity: t.SourceIdentity,
		PrincipalTags:  t.PrincipalTags,
	}, nil
}

// issuerFor accepts only the root URL or a pool path beneath it, so a caller
// bug cannot mint tokens for an issuer fedgate does not serve.
func (i *Issuer) issuerFor(requested string) (string, error) {
	if requested == "" || requested == i.opts.URL {
		return i.opts.URL, nil
	}
	pool, ok := strings.CutPrefix(requested, i.opts.URL+"/pools/")
	if !ok || pool == "" || strings.ContainsAny(pool, "/?#") {
		return "", fmt.Errorf("%w: issuer %q is not served by this gateway", ErrInvalidToken, requested)
	}
	return requested, nil
}

func tagsFor(tags map[string]string, transitive []string) (*tagsClaim, error) {
	if len(tags) == 0 {
		if len(transitive) > 0 {
			return nil, fmt.Errorf("%w: transitive tag keys given without tags", ErrInvalidToken)
		}
		return nil, nil
	}
	if len(tags) > maxTags {
		return nil, fmt.Errorf("%w: %d session tags, at most %d", ErrInvalidToken, len(tags), maxTags)
	}
	principal := make(map[string][]string, len(tags))
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > maxTagKeyLen {
			return nil, fmt.Errorf("%w: tag key %q must be 1-%d characters", ErrInvalidToken, k, maxTagKeyLen)
		}
		if utf8.RuneCountInString(v) > maxTagValueLen {
			return nil, fmt.Errorf("%w: value of tag %q longer than %d characters", ErrInvalidToken, k, maxTagValueLen)
		}
		principal[k] = []string{v}
	}
	for _, k := range transitive {
		if _, ok := tags[k]; !ok {
			return nil, fmt.Errorf("%w: transitive tag key %q is not a session tag", ErrInvalidToken, k)
		}
	}
	return &tagsClaim{PrincipalTags: principal, TransitiveTagKeys: transitive}, nil
}

func randomID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("issuer: token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
