package issuer

import jose "github.com/go-jose/go-jose/v4"

// Where verifiers find the documents, relative to an issuer URL.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks.json"
)

// Documents are what verifiers of the tokens fetch: the discovery document
// of each issuer (the root and every pool with an issuer of its own) and
// the key set they share.
type Documents struct {
	Issuers []string
	JWKS    jose.JSONWebKeySet
}

// JWKS returns the public keys of the current snapshot: the signer and any
// retired keys still inside their retention window.
func (i *Issuer) JWKS() jose.JSONWebKeySet {
	keys := i.snapshot.Load().public.Keys
	return jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), keys...)}
}

// SigningKeyID is the kid new tokens carry.
func (i *Issuer) SigningKeyID() string { return i.snapshot.Load().kid }

// Discovery is the OpenID configuration document for issuerURL (the root or
// a pool issuer). IAM reads issuer and jwks_uri from it.
func Discovery(issuerURL string) map[string]any {
	return map[string]any{
		"issuer":                                issuerURL,
		"jwks_uri":                              issuerURL + JWKSPath,
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{AlgES256, AlgRS256},
		"claims_supported": []string{
			"iss", "sub", "aud", "amr", "iat", "nbf", "exp", "jti",
			ClaimTags, ClaimSourceIdentity,
		},
	}
}
