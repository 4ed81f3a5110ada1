package wire

// Shapes of the Cognito Identity operations for developer-authenticated
// identities (signed).

// GetOpenIDTokenForDeveloperIdentityInput is the body of
// GetOpenIdTokenForDeveloperIdentity.
type GetOpenIDTokenForDeveloperIdentityInput struct {
	IdentityPoolID string            `json:"IdentityPoolId"`
	IdentityID     string            `json:"IdentityId,omitempty"`
	Logins         map[string]string `json:"Logins"`
	PrincipalTags  map[string]string `json:"PrincipalTags,omitempty"`
	// TokenDuration is in seconds; a pointer tells 0 from absent.
	TokenDuration *int64 `json:"TokenDuration,omitempty"`
}

// GetOpenIDTokenForDeveloperIdentityOutput is its answer.
type GetOpenIDTokenForDeveloperIdentityOutput struct {
	IdentityID string `json:"IdentityId"`
	Token      string `json:"Token"`
}

// LookupDeveloperIdentityInput is the body of LookupDeveloperIdentity.
type LookupDeveloperIdentityInput struct {
	IdentityPoolID          string `json:"IdentityPoolId"`
	IdentityID              string `json:"IdentityId,omitempty"`
	DeveloperUserIdentifier string `json:"DeveloperUserIdentifier,omitempty"`
	MaxResults              *int   `json:"MaxResults,omitempty"`
	NextToken               string `json:"NextToken,omitempty"`
}

// LookupDeveloperIdentityOutput is its answer.
type LookupDeveloperIdentityOutput struct {
	IdentityID                  string   `json:"IdentityId"`
	DeveloperUserIdentifierList []string `json:"DeveloperUserIdentifierList"`
	NextToken                   string   `json:"NextToken,omitempty"`
}

// MergeDeveloperIdentitiesInput is the body of MergeDeveloperIdentities.
type MergeDeveloperIdentitiesInput struct {
	SourceUserIdentifier      string `json:"SourceUserIdentifier"`
	DestinationUserIdentifier string `json:"DestinationUserIdentifier"`
	DeveloperProviderName     string `json:"DeveloperProviderName"`
	IdentityPoolID            string `json:"IdentityPoolId"`
}

// MergeDeveloperIdentitiesOutput is its answer.
type MergeDeveloperIdentitiesOutput struct {
	IdentityID string `json:"IdentityId"`
}

// UnlinkDeveloperIdentityInput is the body of UnlinkDeveloperIdentity.
type UnlinkDeveloperIdentityInput struct {
	IdentityID              string `json:"IdentityId"`
	IdentityPoolID          string `json:"IdentityPoolId"`
	DeveloperProviderName   string `json:"DeveloperProviderName"`
	DeveloperUserIdentifier string `json:"DeveloperUserIdentifier"`
}
