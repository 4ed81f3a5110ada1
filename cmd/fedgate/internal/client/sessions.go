package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"

	"fedgate/gateway/wire"
)

// Logout revokes the CLI session on the gateway and deletes the local
// session and cached credentials.
func (c *Client) Logout(ctx context.Context, gatewayURL string) error {
	gateway, err := normalizeGateway(gatewayURL)
	if err != nil {
		return err
	}
	dirs, err := c.dirs()
	if err != nil {
		return err
	}
	if sess, err := dirs.loadSession(gateway, c.now()); err == nil {
		err := c.gateway(gateway, sess.AccessToken).do(ctx, http.MethodDelete, "/cli/sessions/current", nil, nil)
		var ge *gatewayError
		if err != nil && !(errors.As(err, &ge) && ge.sessionInvalid()) {
			return fmt.Errorf("the gateway did not revoke the session (%v); nothing was deleted", err)
		}
	}
	if err := os.Remove(dirs.sessionPath(gateway)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := dirs.removeGatewayCache(gateway); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "Signed out of %s; cached credentials deleted.\n", gateway)
	return nil
}

// signedIn is the gateway API with this computer's session for gatewayURL.
func (c *Client) signedIn(gatewayURL string) (*gatewayClient, error) {
	gateway, err := normalizeGateway(gatewayURL)
	if err != nil {
		return nil, err
	}
	dirs, err := c.dirs()
	if err != nil {
		return nil, err
	}
	sess, err := dirs.loadSession(gateway, c.now())
	if err != nil {
		return nil, loginHint(gateway, err)
	}
	return c.gateway(gateway, sess.AccessToken), nil
}

// ListSessions prints the person's CLI sessions as a table.
func (c *Client) ListSessions(ctx context.Context, gatewayURL string) error {
	g, err := c.signedIn(gatewayURL)
	if err != nil {
		return err
	}
	var out wire.CLISessionList
	if err := g.do(ctx, http.MethodGet, "/cli/sessions", nil, &out); err != nil {
		return loginHint(g.base, err)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMETHOD\tCLIENT\tCREATED\tLAST USED\tEXPIRES\t")
	for _, s := range out.Sessions {
		id := s.ID
		if s.Current {
			id += " (this one)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", id, s.Method, s.Client, s.CreatedAt, s.LastUsedAt, s.ExpiresAt)
	}
	return tw.Flush()
}

// RevokeSession revokes one of the person's CLI sessions by its id.
func (c *Client) RevokeSession(ctx context.Context, gatewayURL, id string) error {
	g, err := c.signedIn(gatewayURL)
	if err != nil {
		return err
	}
	if err := g.do(ctx, http.MethodDelete, "/cli/sessions/"+url.PathEscape(id), nil, nil); err != nil {
		return loginHint(g.base, err)
	}
	fmt.Fprintf(c.stderr, "Session %s revoked.\n", id)
	return nil
}
