package wire

// The Amazon Cognito Identity API (POST /, Content-Type
// application/x-amz-json-1.1, X-Amz-Target
// AWSCognitoIdentityService.<Op>): the shapes the AWS SDKs send and parse,
// which gateway/cognito decodes and encodes. Unknown members are ignored
// on decoding, as AWS does.

// GetIDInput is the body of GetId.
type GetIDInput struct {
	AccountID      string            `json:"AccountId"`
	IdentityPoolID string            `json:"IdentityPoolId"`
	Logins         map[string]string `json:"Logins"`
}

// GetIDOutput is the answer of GetId.
type GetIDOutput struct {
	IdentityID string `json:"IdentityId"`
}

// GetCredentialsForIdentityInput is the body of GetCredentialsForIdentity.
type GetCredentialsForIdentityInput struct {
	IdentityID    string            `json:"IdentityId"`
	Logins        map[string]string `json:"Logins"`
	CustomRoleArn string            `json:"CustomRoleArn"`
}

// GetCredentialsForIdentityOutput is the answer of GetCredentialsForIdentity.
type GetCredentialsForIdentityOutput struct {
	IdentityID  string             `json:"IdentityId"`
	Credentials CognitoCredentials `json:"Credentials"`
}

// CognitoCredentials are credentials as Cognito returns them: SecretKey,
// not SecretAccessKey, and Expiration in epoch seconds (a JSON number), as
// the SDKs expect.
type CognitoCredentials struct {
	AccessKeyID  string `json:"AccessKeyId"`
	SecretKey    string `json:"SecretKey"`
	SessionToken string `json:"SessionToken"`
	Expiration   int64  `json:"Expiration"`
}

// GetOpenIDTokenInput is the body of GetOpenIdToken.
type GetOpenIDTokenInput struct {
	IdentityID string            `json:"IdentityId"`
	Logins     map[string]string `json:"Logins"`
}

// GetOpenIDTokenOutput is the answer of GetOpenIdToken.
type GetOpenIDTokenOutput struct {
	IdentityID string `json:"IdentityId"`
	Token      string `json:"Token"`
}

// CognitoError is the body of every Cognito refusal; Type (e.g.
// NotAuthorizedException) is repeated in the x-amzn-ErrorType header.
type CognitoError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}
