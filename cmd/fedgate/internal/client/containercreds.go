package client

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"fedgate/exchange"
)

// The container credentials provider of the AWS SDKs and CLIs reads these:
// a full URI (loopback, for http) and the Authorization header to send.
const (
	envContainerURI   = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	envContainerToken = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
	// roleARNPath starts a URI that names its role: /role-arn/<ARN>.
	roleARNPath = "/role-arn/"
)

// containerCredentials is the container credentials endpoint's answer, as
// the AWS SDKs read it (ECS task role and EKS Pod Identity shape).
type containerCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"` // RFC 3339, UTC
	RoleARN         string `json:"RoleArn,omitempty"`
}

// credentialServer serves the container credentials endpoint on loopback:
// every request names the CLI session's role (the default, or
// /role-arn/<ARN>) and gets credentials from the same encrypted cache as
// credential-process, fetched anew from the gateway when they expire
// within RefreshBefore. A request without the run's random authorization
// token is refused.
type credentialServer struct {
	c      *Client
	o      RoleOptions // the default role
	token  string
	url    string
	srv    *http.Server
	served chan error

	mu       sync.Mutex
	lastKeys map[string]string // role -> access key last served, to report refreshes
}

// startCredentialServer listens on 127.0.0.1:port (0: any free port).
func (c *Client) startCredentialServer(o RoleOptions, port int) (*credentialServer, error) {
	if _, err := normalizeGateway(o.Gateway); err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(c.rand, raw); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("opening the credentials endpoint on 127.0.0.1: %w", err)
	}
	s := &credentialServer{c: c, o: o, token: hex.EncodeToString(raw), url: "http://" + ln.Addr().String(),
		served: make(chan error, 1), lastKeys: map[string]string{}}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// URL is the endpoint for the default role; RoleURL names another.
func (s *credentialServer) URL() string { return s.url + "/" }

// RoleURL is the endpoint for one role.
func (s *credentialServer) RoleURL(arn string) string { return s.url + roleARNPath + arn }

// Env is what a process needs to use the endpoint for the default role.
func (s *credentialServer) Env() []string {
	return []string{envContainerURI + "=" + s.URL(), envContainerToken + "=" + s.token}
}

// Close stops serving.
func (s *credentialServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// logf writes one line to stderr; handlers run concurrently.
func (s *credentialServer) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.c.stderr, "fedgate: "+format+"\n", args...)
}

func (s *credentialServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// Only this computer's SDKs: a name that merely resolves here (DNS
	// rebinding from a web page) is not this endpoint's address.
	if r.Host != strings.TrimPrefix(s.url, "http://") {
		s.logf("refused a credentials request for host %q from %s", r.Host, r.RemoteAddr)
		writeContainerError(w, http.StatusForbidden, "forbidden", "This endpoint answers only at "+s.url+".")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(s.token)) != 1 {
		how := "a wrong"
		if r.Header.Get("Authorization") == "" {
			how = "no"
		}
		s.logf("refused a credentials request with %s authorization token from %s (%s %s)", how, r.RemoteAddr, r.Method, r.URL.Path)
		writeContainerError(w, http.StatusUnauthorized, "unauthorized", "Send the token of "+envContainerToken+" in the Authorization header.")
		return
	}
	if r.Method != http.MethodGet {
		writeContainerError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Use GET.")
		return
	}
	o := s.o
	switch {
	case r.URL.Path == "/":
	case strings.HasPrefix(r.URL.Path, roleARNPath) && strings.HasPrefix(r.URL.Path[len(roleARNPath):], "arn:"):
		o.Role = r.URL.Path[len(roleARNPath):]
	default:
		writeContainerError(w, http.StatusNotFound, "not_found", "Ask for / (the default role) or "+roleARNPath+"<role ARN>.")
		return
	}
	_, creds, err := s.c.credentials(r.Context(), o)
	if err != nil {
		s.logf("no credentials for %s: %v", roleLabel(o.Role), err)
		writeContainerError(w, http.StatusInternalServerError, "credentials_unavailable", err.Error())
		return
	}
	s.noteServed(o.Role, creds)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(containerCredentials{
		AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, Token: creds.SessionToken,
		Expiration: creds.Expiration.UTC().Format(time.RFC3339), RoleARN: creds.RoleARN,
	})
}

// noteServed reports each new set of credentials a role gets (at start and
// at every refresh), without any secret.
func (s *credentialServer) noteServed(role string, creds *exchange.Credentials) {
	s.mu.Lock()
	fresh := s.lastKeys[role] != creds.AccessKeyID
	s.lastKeys[role] = creds.AccessKeyID
	s.mu.Unlock()
	if fresh {
		s.logf("serving credentials for %s, valid until %s", cmp.Or(creds.RoleARN, roleLabel(role)), creds.Expiration.Local().Format(time.TimeOnly))
	}
}

func roleLabel(role string) string {
	if role == "" {
		return "the default role"
	}
	return role
}

func writeContainerError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

// check fetches the default role's credentials once, so a missing session
// or an ambiguous role is reported before anything relies on the endpoint.
func (s *credentialServer) check(ctx context.Context) error {
	_, creds, err := s.c.credentials(ctx, s.o)
	if err != nil {
		return err
	}
	s.noteServed(s.o.Role, creds)
	return nil
}

// ServeCredentials runs the endpoint until ctx ends (Ctrl-C), printing on
// stdout the two variables to give the processes that should use it.
func (c *Client) ServeCredentials(ctx context.Context, o RoleOptions, port int) error {
	s, err := c.startCredentialServer(o, port)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.check(ctx); err != nil {
		return err
	}
	for _, kv := range s.Env() {
		name, value, _ := strings.Cut(kv, "=")
		fmt.Fprintf(c.stdout, "export %s=%s\n", name, shellJoin([]string{value}))
	}
	fmt.Fprintf(c.stderr, "Serving AWS container credentials at %s (another role: %s<ARN>) until interrupted.\n"+
		"Give a process the two variables above; the AWS SDKs and CLIs read them without other settings.\n", s.URL(), s.url+roleARNPath)
	select {
	case <-ctx.Done():
		fmt.Fprintln(c.stderr, "Stopped serving credentials.")
		return nil
	case err := <-s.served:
		return err
	}
}

// ExecWithServer runs argv with the container credentials endpoint in its
// environment instead of static keys, so long-running commands get
// refreshed credentials; it returns argv's exit code.
func (c *Client) ExecWithServer(ctx context.Context, o RoleOptions, argv []string) (int, error) {
	if len(argv) == 0 {
		return 0, errors.New("no command to run")
	}
	s, err := c.startCredentialServer(o, 0)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.stdin, c.stdout, c.stderr
	cmd.Env = append(withoutAWSCredentials(c.environ), s.Env()...)
	return exitCode(cmd.Run())
}

// exitCode is a finished command's exit code; the error is for a command
// that could not run at all.
func exitCode(err error) (int, error) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitCode(), nil
	default:
		return 0, err
	}
}
