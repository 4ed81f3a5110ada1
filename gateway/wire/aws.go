package wire

// ProcessCredentials is what `fedgate credential-process` prints for the
// AWS CLI and SDKs (their credential_process contract).
type ProcessCredentials struct {
	Version         int    `json:"Version"` // always 1
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	// Expiration is ISO 8601. Left out, the AWS tools take the
	// credentials to never expire, so it is omitted only when STS gave none.
	Expiration string `json:"Expiration,omitempty"`
}

// FederationSession is the Session parameter of the AWS federation
// endpoint's Action=getSigninToken (console sign-in).
type FederationSession struct {
	SessionID    string `json:"sessionId"`    // access key id
	SessionKey   string `json:"sessionKey"`   // secret access key
	SessionToken string `json:"sessionToken"` // session token
}

// FederationSigninToken is the federation endpoint's answer to
// Action=getSigninToken.
type FederationSigninToken struct {
	SigninToken string `json:"SigninToken"`
}
