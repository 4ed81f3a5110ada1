package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"
)

// cmdLogout revokes the CLI session on the gateway and deletes the local
// session and cached credentials.
func (c *cli) cmdLogout(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("logout", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	gatewayFlag := fs.String("gateway", c.env.get("FEDGATE_GATEWAY"), "gateway URL (default $FEDGATE_GATEWAY)")
	if fs.Parse(args) != nil {
		return 2
	}
	gateway, err := normalizeGateway(*gatewayFlag)
	if err != nil {
		return c.fail("logout", err)
	}
	dirs, err := dirsFrom(c.env)
	if err != nil {
		return c.fail("logout", err)
	}
	if sess, err := dirs.loadSession(gateway, c.now()); err == nil {
		err := newGatewayClient(gateway, sess.AccessToken).do(ctx, http.MethodDelete, "/cli/sessions/current", nil, nil)
		var ge *gatewayError
		if err != nil && !(errors.As(err, &ge) && ge.sessionInvalid()) {
			return c.fail("logout", fmt.Errorf("the gateway did not revoke the session (%v); nothing was deleted", err))
		}
	}
	if err := os.Remove(dirs.sessionPath(gateway)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return c.fail("logout", err)
	}
	if err := dirs.removeGatewayCache(gateway); err != nil {
		return c.fail("logout", err)
	}
	fmt.Fprintf(c.stderr, "Signed out of %s; cached credentials deleted.\n", gateway)
	return 0
}

// cmdSessions lists the person's CLI sessions, or revokes one:
// fedgate sessions [revoke ID].
func (c *cli) cmdSessions(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("sessions", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	gatewayFlag := fs.String("gateway", c.env.get("FEDGATE_GATEWAY"), "gateway URL (default $FEDGATE_GATEWAY)")
	if fs.Parse(args) != nil {
		return 2
	}
	gateway, err := normalizeGateway(*gatewayFlag)
	if err != nil {
		return c.fail("sessions", err)
	}
	dirs, err := dirsFrom(c.env)
	if err != nil {
		return c.fail("sessions", err)
	}
	sess, err := dirs.loadSession(gateway, c.now())
	if err != nil {
		return c.fail("sessions", loginHint(gateway, err))
	}
	g := newGatewayClient(gateway, sess.AccessToken)
	if rest := fs.Args(); len(rest) > 0 {
		if rest[0] != "revoke" || len(rest) != 2 {
			fmt.Fprintln(c.stderr, "usage: fedgate sessions --gateway URL [revoke ID]")
			return 2
		}
		if err := g.do(ctx, http.MethodDelete, "/cli/sessions/"+url.PathEscape(rest[1]), nil, nil); err != nil {
			return c.fail("sessions", loginHint(gateway, err))
		}
		fmt.Fprintf(c.stderr, "Session %s revoked.\n", rest[1])
		return 0
	}
	var out struct {
		Sessions []struct {
			ID         string `json:"id"`
			PoolID     string `json:"pool_id"`
			Method     string `json:"method"`
			Client     string `json:"client"`
			CreatedAt  string `json:"created_at"`
			ExpiresAt  string `json:"expires_at"`
			LastUsedAt string `json:"last_used_at"`
			Current    bool   `json:"current"`
		} `json:"sessions"`
	}
	if err := g.do(ctx, http.MethodGet, "/cli/sessions", nil, &out); err != nil {
		return c.fail("sessions", loginHint(gateway, err))
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
	return errorCode(tw.Flush())
}

func errorCode(err error) int {
	if err != nil {
		return 1
	}
	return 0
}
