package oidc

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"fedgate/idp"
)

// The check* steps cover what go-oidc's verifier leaves to its callers.
// Each returns nil or a wrapped idp sentinel.

func checkTokenSize(raw string) error {
	if raw == "" {
		return fmt.Errorf("%w: empty token", idp.ErrInvalidToken)
	}
	if len(raw) > maxTokenBytes {
		return fmt.Errorf("%w: token is %d bytes, limit %d", idp.ErrInvalidToken, len(raw), maxTokenBytes)
	}
	return nil
}

func checkSubject(sub string) error {
	if sub == "" {
		return fmt.Errorf("%w: sub is missing or empty", idp.ErrMissingSubject)
	}
	return nil
}

// checkIssuedAt refuses tokens minted in the future (beyond skew), which
// signals a broken IdP clock or a token crafted to outlive its exp window.
func checkIssuedAt(iat, now time.Time, skew time.Duration) error {
	if !iat.IsZero() && iat.After(now.Add(skew)) {
		return fmt.Errorf("%w: iat %s is in the future", idp.ErrInvalidToken, iat.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkAudience requires aud to contain an accepted client id and, per
// OIDC Core 3.1.3.7, azp to be an accepted client id when present and to be
// present when the token has several audiences.
func checkAudience(reg *idClaims, accepted []string) error {
	aud := reg.Audience
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(accepted, a) }) {
		return fmt.Errorf("%w: aud %q", idp.ErrWrongAudience, aud)
	}
	if !reg.HasAuthorizedParty {
		if len(aud) > 1 {
			return fmt.Errorf("%w: several audiences and no azp", idp.ErrWrongAudience)
		}
		return nil
	}
	if !slices.Contains(accepted, reg.AuthorizedParty) {
		return fmt.Errorf("%w: azp %q is not an accepted client", idp.ErrWrongAudience, reg.AuthorizedParty)
	}
	return nil
}

// checkIssuer requires the configured issuer exactly. Google's ID tokens
// may name "accounts.google.com" without its scheme (as go-oidc allows).
func checkIssuer(iss, want string) error {
	if iss == want || want == "https://accounts.google.com" && iss == "accounts.google.com" {
		return nil
	}
	return fmt.Errorf("%w: iss %q, want %q", idp.ErrWrongIssuer, iss, want)
}

// checkExpiry refuses a token without exp or whose exp is more than skew
// in the past.
func checkExpiry(exp, now time.Time, skew time.Duration) error {
	if exp.IsZero() {
		return fmt.Errorf("%w: token has no exp", idp.ErrInvalidToken)
	}
	if now.Add(-skew).After(exp) {
		return fmt.Errorf("%w: exp %s is past", idp.ErrExpiredToken, exp.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkNotBefore refuses a token whose nbf is more than skew ahead: the
// configured skew exactly, with no allowance of its own.
func checkNotBefore(nbf, now time.Time, skew time.Duration) error {
	if !nbf.IsZero() && nbf.After(now.Add(skew)) {
		return fmt.Errorf("%w: nbf %s is in the future", idp.ErrInvalidToken, nbf.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkNonce binds the token to the browser flow that asked for it.
func checkNonce(got, want string) error {
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return idp.ErrNonceMismatch
	}
	return nil
}

// checkNotAccessToken refuses JWT access tokens (RFC 9068, typ at+jwt):
// some IdPs give them the client id as audience, and one must not pass
// for an ID token. It reads the header of a token already verified.
func checkNotAccessToken(raw string) error {
	header, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return fmt.Errorf("%w: header: %w", idp.ErrInvalidToken, err)
	}
	var h struct {
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return fmt.Errorf("%w: header: %w", idp.ErrInvalidToken, err)
	}
	switch strings.ToLower(h.Typ) {
	case "at+jwt", "application/at+jwt":
		return fmt.Errorf("%w: an access token (typ %s), not an ID token", idp.ErrInvalidToken, h.Typ)
	}
	return nil
}
