package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"fedgate/gateway/wire"
)

// Console sign-in bounds of the AWS federation endpoint.
const (
	MinConsoleSession = 15 * time.Minute
	MaxConsoleSession = 12 * time.Hour
	// maxSigninResponse caps the federation endpoint's answer.
	maxSigninResponse = 64 << 10
)

// ErrConsole wraps every failure of the federation endpoint.
var ErrConsole = errors.New("console sign-in failed")

// ConsoleSignIn turns temporary credentials into an AWS console sign-in
// URL through the federation endpoint: getSigninToken, then Action=login.
type ConsoleSignIn struct {
	Endpoint string       // e.g. https://signin.aws.amazon.com/federation
	HTTP     *http.Client // with a timeout
}

// ConsoleRequest is what the sign-in URL is built from.
type ConsoleRequest struct {
	Credentials *Credentials
	// Duration of the console session; clamped to 15m..12h.
	Duration    time.Duration
	Issuer      string // where the console sends the person when the session ends
	Destination string // the console page to open
}

// ConsoleSessionDuration clamps d to what the federation endpoint accepts.
func ConsoleSessionDuration(d time.Duration) time.Duration {
	return min(max(d, MinConsoleSession), MaxConsoleSession)
}

// LoginURL asks the federation endpoint for a sign-in token and returns
// the login URL. The URL is a bearer secret for 15 minutes: never log it.
func (c ConsoleSignIn) LoginURL(ctx context.Context, r ConsoleRequest) (string, error) {
	if r.Credentials == nil || r.Credentials.AccessKeyID == "" || r.Credentials.SessionToken == "" {
		return "", fmt.Errorf("%w: temporary credentials with a session token are required", ErrConsole)
	}
	session, err := json.Marshal(wire.FederationSession{
		SessionID: r.Credentials.AccessKeyID, SessionKey: r.Credentials.SecretAccessKey, SessionToken: r.Credentials.SessionToken,
	})
	if err != nil {
		return "", err
	}
	base, err := url.Parse(c.Endpoint)
	if err != nil || base.Host == "" {
		return "", fmt.Errorf("%w: bad federation endpoint", ErrConsole)
	}
	q := url.Values{
		"Action":          {"getSigninToken"},
		"SessionDuration": {fmt.Sprint(int(ConsoleSessionDuration(r.Duration).Seconds()))},
		"Session":         {string(session)},
	}
	// The documented request is a GET with the session in the query,
	// sent straight to the federation endpoint over TLS.
	tokenURL := *base
	tokenURL.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tokenURL.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrConsole, redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSigninResponse))
	if err != nil {
		return "", fmt.Errorf("%w: reading answer: %v", ErrConsole, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: federation endpoint answered HTTP %d", ErrConsole, resp.StatusCode)
	}
	var out wire.FederationSigninToken
	if err := json.Unmarshal(body, &out); err != nil || out.SigninToken == "" {
		return "", fmt.Errorf("%w: federation endpoint answered without a SigninToken", ErrConsole)
	}
	login := url.Values{
		"Action":      {"login"},
		"Issuer":      {r.Issuer},
		"Destination": {r.Destination},
		"SigninToken": {out.SigninToken},
	}
	u := *base
	u.RawQuery = login.Encode()
	return u.String(), nil
}

// redactURLError drops the request URL (it carries the session) from a
// transport error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s federation endpoint: %w", ue.Op, ue.Err)
	}
	return err
}
