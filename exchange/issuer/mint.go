package issuer

import (
	"context"
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

// Mint signs a token with the current key.
func (i *Issuer) Mint(_ context.Context, t Token) (string, error) {
	key := i.snapshot.Load().signer
	c, err := i.claimsFor(t)
	if err != nil {
		return "", err
	}
	var buf [1024]byte
	tok, err := key.sign(i.opts.Rand, c.appendJSON(buf[:0]))
	if err != nil {
		return "", fmt.Errorf("issuer: sign with key %q: %w", key.kid, err)
	}
	return tok, nil
}

func (i *Issuer) claimsFor(t Token) (claims, error) {
	iss, err := i.issuerFor(t.Issuer)
	if err != nil {
		return claims{}, err
	}
	if t.Subject == "" || t.Audience == "" {
		return claims{}, fmt.Errorf("%w: subject and audience are required", ErrInvalidToken)
	}
	if err := checkTags(t.Tags, t.TransitiveTagKeys); err != nil {
		return claims{}, err
	}
	if n := utf8.RuneCountInString(t.SourceIdentity); t.SourceIdentity != "" && (n < minSourceIdentity || n > maxSourceIdentity) {
		return claims{}, fmt.Errorf("%w: source identity must be %d-%d characters", ErrInvalidToken, minSourceIdentity, maxSourceIdentity)
	}
	ttl := t.TTL
	switch {
	case ttl < 0:
		return claims{}, fmt.Errorf("%w: negative TTL", ErrInvalidToken)
	case ttl == 0:
		ttl = i.opts.TokenTTL
	case ttl > MaxTokenTTL:
		ttl = MaxTokenTTL
	}
	c := claims{
		Issuer:            iss,
		Subject:           t.Subject,
		Audience:          t.Audience,
		AMR:               t.AMR,
		Tags:              t.Tags,
		TransitiveTagKeys: t.TransitiveTagKeys,
		SourceIdentity:    t.SourceIdentity,
		PrincipalTags:     t.PrincipalTags,
	}
	if _, err := io.ReadFull(i.opts.Rand, c.ID[:]); err != nil {
		return claims{}, fmt.Errorf("issuer: token id: %w", err)
	}
	now := i.opts.Now()
	c.IssuedAt, c.NotBefore, c.Expiry = now.Unix(), now.Unix(), now.Add(ttl).Unix()
	return c, nil
}

// issuerFor accepts only the root URL or a pool path beneath it, so a caller
// bug cannot mint tokens for an issuer fedgate does not serve.
func (i *Issuer) issuerFor(requested string) (string, error) {
	if requested == "" || requested == i.opts.URL {
		return i.opts.URL, nil
	}
	rest, ok := strings.CutPrefix(requested, i.opts.URL)
	pool, isPool := strings.CutPrefix(rest, "/pools/")
	if !ok || !isPool || pool == "" || strings.ContainsAny(pool, "/?#") {
		return "", fmt.Errorf("%w: issuer %q is not served by this gateway", ErrInvalidToken, requested)
	}
	return requested, nil
}

func checkTags(tags map[string]string, transitive []string) error {
	if len(tags) == 0 {
		if len(transitive) > 0 {
			return fmt.Errorf("%w: transitive tag keys given without tags", ErrInvalidToken)
		}
		return nil
	}
	if len(tags) > maxTags {
		return fmt.Errorf("%w: %d session tags, at most %d", ErrInvalidToken, len(tags), maxTags)
	}
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > maxTagKeyLen {
			return fmt.Errorf("%w: tag key %q must be 1-%d characters", ErrInvalidToken, k, maxTagKeyLen)
		}
		if utf8.RuneCountInString(v) > maxTagValueLen {
			return fmt.Errorf("%w: value of tag %q longer than %d characters", ErrInvalidToken, k, maxTagValueLen)
		}
	}
	for _, k := range transitive {
		if _, ok := tags[k]; !ok {
			return fmt.Errorf("%w: transitive tag key %q is not a session tag", ErrInvalidToken, k)
		}
	}
	return nil
}
