package wire

// CLIToken is the answer of POST /cli/token (RFC 6749 §5.1 plus the
// session's facts): a loopback code or an approved device code becomes a
// CLI session whose bearer token is AccessToken.
type CLIToken struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"` // Bearer
	ExpiresIn   int64  `json:"expires_in"` // seconds
	ExpiresAt   string `json:"expires_at"` // RFC 3339, UTC
	SessionID   string `json:"session_id"`
	Pool        string `json:"pool"`
	Provider    string `json:"provider"`
	User        string `json:"user"` // a display name: email, username or subject
}

// OAuthError is a refusal of POST /cli/token (RFC 6749 §5.2, RFC 8628
// §3.5): Error is e.g. invalid_grant, authorization_pending, slow_down,
// expired_token or access_denied.
type OAuthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	RequestID   string `json:"request_id"`
}

// DeviceAuthorization is the answer of POST /cli/device (RFC 8628 §3.2).
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"` // seconds
	Interval                int    `json:"interval"`   // seconds between polls
}

// CLIPoolList is the answer of GET /cli/pools: what `fedgate login` can
// sign in to.
type CLIPoolList struct {
	Pools []CLIPool `json:"pools"`
	// Console is where `fedgate console` signs in (console.federation_url
	// and console.destination of the gateway's configuration).
	Console *CLIConsole `json:"console,omitempty"`
}

// CLIConsole is the AWS console sign-in a gateway is set up for.
type CLIConsole struct {
	FederationURL string `json:"federation_url"`
	Destination   string `json:"destination"`
}

// CLIPool is one pool of GET /cli/pools with the providers it accepts.
type CLIPool struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Providers   []string `json:"providers"`
}

// CLIRoleList is the answer of GET /cli/roles[?pool=]: the roles the rules
// give the session's person now.
type CLIRoleList struct {
	Roles []CLIRole `json:"roles"`
}

// CLIRole is one role of GET /cli/roles.
type CLIRole struct {
	PoolID      string `json:"pool_id"`
	PoolName    string `json:"pool_name"`
	PoolDisplay string `json:"pool_display_name"`
	Region      string `json:"region"`
	RoleARN     string `json:"role_arn"`
	RoleName    string `json:"role_name"`
	Rule        string `json:"rule,omitempty"` // the rule that grants it
}

// CLISessionList is the answer of GET /cli/sessions: the caller's live
// CLI sessions.
type CLISessionList struct {
	Sessions []CLISession `json:"sessions"`
}

// CLISession is one session of GET /cli/sessions; times are RFC 3339, UTC.
type CLISession struct {
	ID         string `json:"id"`
	PoolID     string `json:"pool_id"`
	Provider   string `json:"provider"`
	Method     string `json:"method"` // how it signed in: loopback or device
	Client     string `json:"client,omitempty"`
	CreatedAt  string `json:"created_at"`
	ExpiresAt  string `json:"expires_at"`
	LastUsedAt string `json:"last_used_at"`
	Current    bool   `json:"current"` // the session making the request
}
