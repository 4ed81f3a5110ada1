package wire

// CredentialsRequest is the body of POST /api/v1/credentials (with an
// upstream ID token as the bearer) and of POST /cli/credentials (with a
// CLI session as the bearer). An empty Pool on /cli/credentials means the
// pool the session signed in through.
type CredentialsRequest struct {
	Pool            string `json:"pool"`
	Provider        string `json:"provider,omitempty"`
	RoleARN         string `json:"role_arn,omitempty"`
	DurationSeconds int    `json:"duration_seconds,omitempty"`
}

// SAMLCredentialsRequest is the body of POST /api/v1/credentials without
// an Authorization header: a base64 SAML response stands in for the
// bearer token.
type SAMLCredentialsRequest struct {
	CredentialsRequest
	SAMLResponse string `json:"saml_response"`
}

// Credentials is the answer of POST /api/v1/credentials and POST
// /cli/credentials. The fedgate client also keeps it, encrypted, as its
// credentials cache.
type Credentials struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token"`
	Expiration      string `json:"expiration"` // RFC 3339, UTC
	RoleARN         string `json:"role_arn"`
	AssumedRoleARN  string `json:"assumed_role_arn"`
	IdentityID      string `json:"identity_id"`
}

// APIError is the body of every refusal of the JSON API, the CLI
// endpoints (except /cli/token) and the admin API.
type APIError struct {
	Code      string `json:"code"` // stable, for programs
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	// Roles lists the caller's entitled roles when they must pick one
	// (code role_required).
	Roles []string `json:"roles,omitempty"`
}
