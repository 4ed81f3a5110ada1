package wire

// Shapes of the Cognito Identity operations AWS signs: identity and
// identity pool management.

// ListIdentityPoolsInput is the body of ListIdentityPools.
type ListIdentityPoolsInput struct {
	MaxResults int    `json:"MaxResults"`
	NextToken  string `json:"NextToken,omitempty"`
}

// IdentityPoolShortDescription names one pool in ListIdentityPools.
type IdentityPoolShortDescription struct {
	IdentityPoolID   string `json:"IdentityPoolId"`
	IdentityPoolName string `json:"IdentityPoolName"`
}

// ListIdentityPoolsOutput is the answer of ListIdentityPools.
type ListIdentityPoolsOutput struct {
	IdentityPools []IdentityPoolShortDescription `json:"IdentityPools"`
	NextToken     string                         `json:"NextToken,omitempty"`
}

// DescribeIdentityPoolInput is the body of DescribeIdentityPool (and of
// GetIdentityPoolRoles and the other operations naming one pool).
type DescribeIdentityPoolInput struct {
	IdentityPoolID string `json:"IdentityPoolId"`
}

// IdentityPool is a pool as Cognito describes it.
type IdentityPool struct {
	IdentityPoolID                 string            `json:"IdentityPoolId"`
	IdentityPoolName               string            `json:"IdentityPoolName"`
	AllowUnauthenticatedIdentities bool              `json:"AllowUnauthenticatedIdentities"`
	AllowClassicFlow               bool              `json:"AllowClassicFlow"`
	SupportedLoginProviders        map[string]string `json:"SupportedLoginProviders,omitempty"`
	DeveloperProviderName          string            `json:"DeveloperProviderName,omitempty"`
	SamlProviderARNs               []string          `json:"SamlProviderARNs,omitempty"`
	IdentityPoolTags               map[string]string `json:"IdentityPoolTags,omitempty"`
}

// DescribeIdentityInput is the body of DescribeIdentity.
type DescribeIdentityInput struct {
	IdentityID string `json:"IdentityId"`
}

// IdentityDescription is one identity: its login keys and its dates in
// epoch seconds.
type IdentityDescription struct {
	IdentityID       string   `json:"IdentityId"`
	Logins           []string `json:"Logins,omitempty"`
	CreationDate     float64  `json:"CreationDate"`
	LastModifiedDate float64  `json:"LastModifiedDate"`
}

// ListIdentitiesInput is the body of ListIdentities.
type ListIdentitiesInput struct {
	IdentityPoolID string `json:"IdentityPoolId"`
	MaxResults     int    `json:"MaxResults"`
	NextToken      string `json:"NextToken,omitempty"`
	HideDisabled   bool   `json:"HideDisabled"`
}

// ListIdentitiesOutput is the answer of ListIdentities.
type ListIdentitiesOutput struct {
	IdentityPoolID string                `json:"IdentityPoolId"`
	Identities     []IdentityDescription `json:"Identities"`
	NextToken      string                `json:"NextToken,omitempty"`
}

// DeleteIdentitiesInput is the body of DeleteIdentities.
type DeleteIdentitiesInput struct {
	IdentityIDsToDelete []string `json:"IdentityIdsToDelete"`
}

// UnprocessedIdentityID is an identity DeleteIdentities did not delete.
type UnprocessedIdentityID struct {
	IdentityID string `json:"IdentityId"`
	ErrorCode  string `json:"ErrorCode"` // AccessDenied or InternalServerError
}

// DeleteIdentitiesOutput is the answer of DeleteIdentities.
type DeleteIdentitiesOutput struct {
	UnprocessedIdentityIDs []UnprocessedIdentityID `json:"UnprocessedIdentityIds"`
}

// UnlinkIdentityInput is the body of UnlinkIdentity.
type UnlinkIdentityInput struct {
	IdentityID     string            `json:"IdentityId"`
	Logins         map[string]string `json:"Logins"`
	LoginsToRemove []string          `json:"LoginsToRemove"`
}

// CreateIdentityPoolInput is the body of CreateIdentityPool (and, with
// IdentityPoolId, of UpdateIdentityPool).
type CreateIdentityPoolInput struct {
	IdentityPoolID                 string            `json:"IdentityPoolId,omitempty"`
	IdentityPoolName               string            `json:"IdentityPoolName"`
	AllowUnauthenticatedIdentities bool              `json:"AllowUnauthenticatedIdentities"`
	AllowClassicFlow               bool              `json:"AllowClassicFlow"`
	SupportedLoginProviders        map[string]string `json:"SupportedLoginProviders"`
	DeveloperProviderName          string            `json:"DeveloperProviderName"`
	OpenIDConnectProviderARNs      []string          `json:"OpenIdConnectProviderARNs"`
	CognitoIdentityProviders       []struct {
		ProviderName string `json:"ProviderName"`
		ClientID     string `json:"ClientId"`
	} `json:"CognitoIdentityProviders"`
	SamlProviderARNs []string          `json:"SamlProviderARNs"`
	IdentityPoolTags map[string]string `json:"IdentityPoolTags"`
}

// RulesConfiguration is a Cognito role mapping's rule list.
type RulesConfiguration struct {
	Rules []MappingRule `json:"Rules"`
}

// MappingRule is one Cognito role mapping rule.
type MappingRule struct {
	Claim     string `json:"Claim"`
	MatchType string `json:"MatchType"`
	Value     string `json:"Value"`
	RoleARN   string `json:"RoleARN"`
}

// RoleMapping is a provider's role mapping.
type RoleMapping struct {
	Type                    string              `json:"Type"`
	AmbiguousRoleResolution string              `json:"AmbiguousRoleResolution,omitempty"`
	RulesConfiguration      *RulesConfiguration `json:"RulesConfiguration,omitempty"`
}

// GetIdentityPoolRolesOutput is the answer of GetIdentityPoolRoles.
type GetIdentityPoolRolesOutput struct {
	IdentityPoolID string                 `json:"IdentityPoolId"`
	Roles          map[string]string      `json:"Roles"`
	RoleMappings   map[string]RoleMapping `json:"RoleMappings,omitempty"`
}

// PrincipalTagAttributeMapInput is the body of GetPrincipalTagAttributeMap.
type PrincipalTagAttributeMapInput struct {
	IdentityPoolID       string `json:"IdentityPoolId"`
	IdentityProviderName string `json:"IdentityProviderName"`
}

// PrincipalTagAttributeMapOutput is the answer of GetPrincipalTagAttributeMap.
type PrincipalTagAttributeMapOutput struct {
	IdentityPoolID       string            `json:"IdentityPoolId"`
	IdentityProviderName string            `json:"IdentityProviderName"`
	UseDefaults          bool              `json:"UseDefaults"`
	PrincipalTags        map[string]string `json:"PrincipalTags"`
}

// ResourceARNInput is the body of ListTagsForResource.
type ResourceARNInput struct {
	ResourceARN string `json:"ResourceArn"`
}

// ListTagsForResourceOutput is the answer of ListTagsForResource.
type ListTagsForResourceOutput struct {
	Tags map[string]string `json:"Tags"`
}

// SetIdentityPoolRolesInput is the body of SetIdentityPoolRoles.
type SetIdentityPoolRolesInput struct {
	IdentityPoolID string                 `json:"IdentityPoolId"`
	Roles          map[string]string      `json:"Roles"`
	RoleMappings   map[string]RoleMapping `json:"RoleMappings"`
}
