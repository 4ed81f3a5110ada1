package wire

// Shapes of the Cognito Identity operations that write a pool's principal
// tag mapping and its resource tags.

// SetPrincipalTagAttributeMapInput is the body of SetPrincipalTagAttributeMap.
type SetPrincipalTagAttributeMapInput struct {
	IdentityPoolID       string            `json:"IdentityPoolId"`
	IdentityProviderName string            `json:"IdentityProviderName"`
	UseDefaults          *bool             `json:"UseDefaults"`
	PrincipalTags        map[string]string `json:"PrincipalTags"`
}

// TagResourceInput is the body of TagResource.
type TagResourceInput struct {
	ResourceARN string            `json:"ResourceArn"`
	Tags        map[string]string `json:"Tags"`
}

// UntagResourceInput is the body of UntagResource.
type UntagResourceInput struct {
	ResourceARN string   `json:"ResourceArn"`
	TagKeys     []string `json:"TagKeys"`
}
