// Package wire holds the JSON shapes that the gateway's endpoints speak,
// shared by the server, the CLI client and the tests.
package wire

// CredentialsRequest is the body of POST /api/v1/credentials and POST /cli/credentials.
type CredentialsRequest struct {
	Pool            string `json:"pool"`
	Provider        string `json:"provider,omitempty"`
	RoleARN         string `json:"role_arn,omitempty"`
	DurationSeconds int    `json:"duration_seconds,omitempty"`
}

// Credentials is the JSON form of vended credentials (the JSON API, the
// CLI endpoint and the credentials page).
type Credentials struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token"`
	Expiration      string `json:"expiration"`
	RoleARN         string `json:"role_arn"`
	AssumedRoleARN  string `json:"assumed_role_arn"`
	IdentityID      string `json:"identity_id"`
}
