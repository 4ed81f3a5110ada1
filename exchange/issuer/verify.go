package issuer

// Verification of fedgate's own tokens, for the Cognito API's
// cognito-identity.amazonaws.com login: a token comes back to the gateway
// that minted it, so it is checked against the issuer's own keys only (no
// network), strictly: one signature by a published key with that key's
// algorithm, the exact issuer, one expected audience, and times within
// VerifySkew. The payload is decoded once (jwtclaims), so what is checked
// is what the rules later see.

import (
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"fedgate/exchange/jwtclaims"
)

// VerifySkew is the clock difference tolerated between the replica that
// minted a token and the one verifying it.
const VerifySkew = time.Minute

// maxVerifiedToken bounds a token before parsing: above the 50,000
// characters a Cognito login value may hold, so every token fedgate hands
// out for a login (PrincipalTags included) can come back.
const maxVerifiedToken = 64 << 10

// ClaimPrincipalTags carries, in a developer identity's token, the
// PrincipalTags its backend gave: they are claims of that login.
const ClaimPrincipalTags = "fedgate:principal_tags"

// Refusals of Verify. Every refusal wraps ErrTokenRefused; an expired
// token also wraps ErrTokenExpired.
var (
	ErrTokenRefused = errors.New("issuer: token refused")
	ErrTokenExpired = fmt.Errorf("%w: expired", ErrTokenRefused)
)

// Expect is what a token must say to be accepted.
type Expect struct {
	Issuer    string   // iss, exactly
	Audiences []string // aud: a single value, one of these
}

// Verified is a token of this issuer that passed Verify.
type Verified struct {
	Subject, Audience string
	AMR               []string
	Expiry            time.Time
	PrincipalTags     map[string]string
	// Claims is the whole payload, from the same decoding.
	Claims map[string]any
}

// Verify checks a token this issuer minted (with any key it still
// publishes) against want and the issuer's clock.
func (i *Issuer) Verify(raw string, want Expect) (*Verified, error) {
	refuse := func(format string, args ...any) (*Verified, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrTokenRefused}, args...)...)
	}
	if len(raw) > maxVerifiedToken {
		return refuse("longer than %d bytes", maxVerifiedToken)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return refuse("not a compact JWS of an accepted algorithm: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return refuse("not one signature")
	}
	hdr := jws.Signatures[0].Protected
	keys := i.snapshot.Load().public.Keys
	k := slices.IndexFunc(keys, func(k jose.JSONWebKey) bool { return hdr.KeyID != "" && k.KeyID == hdr.KeyID })
	if k < 0 {
		return refuse("signed by a key this issuer does not publish")
	}
	// The key's algorithm, not the header's choice among the accepted ones.
	if hdr.Algorithm != keys[k].Algorithm {
		return refuse("algorithm %q is not its key's", hdr.Algorithm)
	}
	payload, err := jws.Verify(keys[k])
	if err != nil {
		return refuse("bad signature")
	}
	claims, reg, err := jwtclaims.Decode(payload)
	if err != nil {
		return refuse("%v", err)
	}
	now := i.opts.Now()
	switch {
	case reg.Issuer != want.Issuer:
		return refuse("issuer %q is not %q", reg.Issuer, want.Issuer)
	case len(reg.Audience) != 1 || !slices.Contains(want.Audiences, reg.Audience[0]):
		return refuse("audience is not this pool's")
	case reg.Subject == "":
		return refuse("no subject")
	case reg.Expiry.IsZero() || reg.IssuedAt.IsZero() || reg.NotBefore.IsZero():
		return refuse("exp, iat and nbf are required")
	case reg.Expiry.Sub(reg.IssuedAt) > MaxTokenTTL:
		return refuse("lifetime longer than this issuer mints")
	case !now.Before(reg.Expiry.Add(VerifySkew)):
		return nil, fmt.Errorf("%w (at %s)", ErrTokenExpired, reg.Expiry.UTC().Format(time.RFC3339))
	case now.Add(VerifySkew).Before(reg.NotBefore), now.Add(VerifySkew).Before(reg.IssuedAt):
		return refuse("not valid yet")
	}
	v := &Verified{Subject: reg.Subject, Audience: reg.Audience[0], Expiry: reg.Expiry, Claims: claims}
	if v.AMR, err = stringsOf(claims["amr"]); err != nil {
		return refuse("amr: %v", err)
	}
	if t, ok := claims[ClaimPrincipalTags]; ok {
		obj, isObj := t.(map[string]any)
		if !isObj {
			return refuse("%s is not an object", ClaimPrincipalTags)
		}
		v.PrincipalTags = make(map[string]string, len(obj))
		for name, val := range obj {
			s, isStr := val.(string)
			if !isStr {
				return refuse("%s holds a value that is not a string", ClaimPrincipalTags)
			}
			v.PrincipalTags[name] = s
		}
	}
	return v, nil
}

func stringsOf(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, errors.New("not an array")
	}
	out := make([]string, len(arr))
	for i, a := range arr {
		s, ok := a.(string)
		if !ok {
			return nil, errors.New("holds a value that is not a string")
		}
		out[i] = s
	}
	return out, nil
}
