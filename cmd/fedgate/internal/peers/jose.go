package peers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// VerifyWithJose verifies token independently of fedgate's Go code: jose (node)
// discovers issuer, fetches its JWKS and checks signature, iss, aud and expiry.
// It returns the payload and fails the test when verification fails.
func VerifyWithJose(t testing.TB, issuer, audience, token string) map[string]any {
	t.Helper()
	dir := nodePeerDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), httpTimeout)
	defer cancel()
	payload, err := verifyJWT(ctx, dir, issuer, audience, token)
	if err != nil {
		t.Fatalf("jose rejected the token: %v", err)
	}
	return payload
}

// VerifyJWT is VerifyWithJose for tests that expect a rejection: it returns jose's
// error instead of failing.
func VerifyJWT(ctx context.Context, issuer, audience, token string) (map[string]any, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	if err := checkNodeModules(dir); err != nil {
		return nil, err
	}
	return verifyJWT(ctx, dir, issuer, audience, token)
}

func verifyJWT(ctx context.Context, dir, issuer, audience, token string) (map[string]any, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "verify-jwt.mjs"), issuer, audience, token)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("verify-jwt.mjs: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var payload map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &payload); err != nil {
		return nil, fmt.Errorf("verify-jwt.mjs printed no JSON payload: %w", err)
	}
	return payload, nil
}
