package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"fedgate/gateway/wire"
)

// maxGatewayAnswer bounds what the client reads of one answer.
const maxGatewayAnswer = 1 << 20

// gatewayClient talks to one fedgate gateway's /cli API.
type gatewayClient struct {
	base      string
	token     string // CLI session bearer; empty before login
	http      *http.Client
	userAgent string
}

func (c *Client) gateway(base, token string) *gatewayClient {
	return &gatewayClient{base: base, token: token, http: c.gatewayHTTP, userAgent: c.userAgent}
}

// gatewayError is a refusal from the gateway, with its stable code.
type gatewayError struct {
	Status           int
	Code, Message    string
	OAuthError, Desc string
	Roles            []string // role_required: the roles to choose from
}

func (e *gatewayError) Error() string {
	switch {
	case e.Message != "":
		return fmt.Sprintf("%s (%s, HTTP %d)", e.Message, e.Code, e.Status)
	case e.OAuthError != "":
		return fmt.Sprintf("%s (%s)", e.Desc, e.OAuthError)
	default:
		return fmt.Sprintf("the gateway answered HTTP %d", e.Status)
	}
}

// sessionInvalid tells an expired or revoked session from other refusals.
func (e *gatewayError) sessionInvalid() bool { return e.Status == http.StatusUnauthorized }

// do sends a request (body: JSON value, url.Values as a form, or nil) and
// decodes a 2xx JSON answer into out.
func (g *gatewayClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, g.base+path, rd)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", g.userAgent)
	if g.token != "" {
		req.Header.Set("Authorization", "Bearer "+g.token)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", g.base, unwrapURLError(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxGatewayAnswer))
	if err != nil {
		return fmt.Errorf("reading the gateway's answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return refusal(resp.StatusCode, raw)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("the gateway's answer is not the JSON expected: %w", err)
	}
	return nil
}

// refusal reads an error answer: the API's {code, message} or, from
// /cli/token, OAuth's {error, error_description}.
func refusal(status int, body []byte) *gatewayError {
	ge := &gatewayError{Status: status}
	var api wire.APIError
	if json.Unmarshal(body, &api) == nil {
		ge.Code, ge.Message, ge.Roles = api.Code, api.Message, api.Roles
	}
	var oauth wire.OAuthError
	if json.Unmarshal(body, &oauth) == nil {
		ge.OAuthError, ge.Desc = oauth.Error, oauth.Description
	}
	return ge
}

// unwrapURLError drops the URL from a transport error (it is the gateway's
// own address, but keep messages short).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
