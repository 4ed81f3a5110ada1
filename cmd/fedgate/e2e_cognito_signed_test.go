package main

// Signed Cognito Identity operations end to end: access keys made with
// `fedgate access-keys` and the admin API, used by the AWS CLI v1 and v2
// (only --endpoint-url changed) against the real binary.

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"fedgate/cmd/fedgate/internal/peers"
)

// accessKey creates a key with the binary's access-keys command.
func (e *env) accessKey(name, role string, extra ...string) (id, secret string) {
	e.t.Helper()
	out, err := e.fedgate(append([]string{"access-keys", "create", "--name", name, "--role", role}, extra...)...)
	if err != nil {
		e.t.Fatalf("access-keys create: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`aws_access_key_id = (\S+)\naws_secret_access_key = (\S+)`).FindStringSubmatch(out)
	if m == nil {
		e.t.Fatalf("access-keys create printed %q", out)
	}
	return m[1], m[2]
}

// awsCLI runs one AWS CLI with only an access key: no config file, no
// profile, the endpoint on the command line.
func (e *env) awsCLI(bin, id, secret string, args ...string) (stdout, stderr string, err error) {
	e.t.Helper()
	home := e.t.TempDir()
	cmd := exec.Command(bin, append(args, "--endpoint-url", e.url, "--output", "json")...)
	cmd.Env = append(os.Environ(), "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "none"),
		"AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() { <-ctx.Done(); _ = cmd.Process.Kill() }()
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func TestEndToEndCognitoSignedWithAWSCLI(t *testing.T) {
	clis := peers.AWSCLIs(t)
	var guestRole string
	e := startEnv(t, withCognitoPool(&guestRole), withAdmin)
	key := strings.TrimPrefix(e.idp.Issuer, "http://")

	editorID, editorSecret := e.accessKey("scripts", "editor")
	viewerID, viewerSecret := e.accessKey("dashboards", "viewer", "--pool", poolMobileID)
	// The admin API makes keys too (owner only), the secret in its answer once.
	r := e.adminAPI(nil, http.MethodPost, "/admin/api/v1/access-keys", `{"name":"api-made","role":"viewer"}`)
	var made struct {
		ID     string `json:"id"`
		Secret string `json:"secret_access_key"`
	}
	r.json(t, &made)
	if r.status != http.StatusCreated || made.ID == "" || made.Secret == "" {
		t.Fatalf("admin API create: HTTP %d %s", r.status, r.body)
	}
	list := e.adminAPI(nil, http.MethodGet, "/admin/api/v1/access-keys", "")
	if list.status != http.StatusOK || strings.Contains(list.body, made.Secret) || strings.Contains(list.body, editorSecret) ||
		!strings.Contains(list.body, editorID) || !strings.Contains(list.body, made.ID) {
		t.Fatalf("admin API list (no secrets, every key): HTTP %d %s", list.status, list.body)
	}

	// The two CLIs run side by side (each starts slowly), each on an
	// identity of its own.
	t.Run("AWS CLIs", func(t *testing.T) {
		for v, user := range map[string]string{"v1": "alice", "v2": "carol"} {
			bin := clis[v]
			t.Run(v, func(t *testing.T) {
				t.Parallel()
				awsCLIScript(t, e, bin, user, key, viewerID, viewerSecret, editorID, editorSecret)
			})
		}
	})

	t.Run("a disabled key is refused, a rotated secret replaces the old one", func(t *testing.T) {
		if out, err := e.fedgate("access-keys", "disable", "--id", viewerID); err != nil {
			t.Fatalf("disable: %v\n%s", err, out)
		}
		_, stderr, err := e.awsCLI(clis["v2"], viewerID, viewerSecret, "cognito-identity", "list-identity-pools", "--max-results", "10")
		if err == nil || !strings.Contains(stderr, "UnrecognizedClientException") {
			t.Fatalf("a disabled key: %v\n%s", err, stderr)
		}
		out, err := e.fedgate("access-keys", "rotate", "--id", editorID)
		newSecret := regexp.MustCompile(`aws_secret_access_key = (\S+)`).FindStringSubmatch(out)
		if err != nil || newSecret == nil || newSecret[1] == editorSecret {
			t.Fatalf("rotate: %v\n%s", err, out)
		}
		if _, stderr, err := e.awsCLI(clis["v2"], editorID, editorSecret, "cognito-identity", "list-identity-pools", "--max-results", "10"); err == nil || !strings.Contains(stderr, "InvalidSignatureException") {
			t.Fatalf("the old secret after rotation: %v\n%s", err, stderr)
		}
		if out, stderr, err := e.awsCLI(clis["v2"], editorID, newSecret[1], "cognito-identity", "list-identity-pools", "--max-results", "10"); err != nil {
			t.Fatalf("the new secret: %v\n%s%s", err, out, stderr)
		}
		listed, _ := e.fedgate("access-keys", "list")
		if !regexp.MustCompile(viewerID+`\tdashboards\tviewer\tpool `+regexp.QuoteMeta(poolMobileID)+`\tdisabled\t`).MatchString(listed) ||
			!regexp.MustCompile(editorID+`\tscripts\teditor\tevery pool\tenabled\t.*\tlast used `).MatchString(listed) ||
			strings.Contains(listed, newSecret[1]) {
			t.Errorf("access-keys list:\n%s", listed)
		}
	})

	t.Run("every use is in the audit log", func(t *testing.T) {
		uses := e.audit(t, "kind=access_key&limit=200")
		count := map[string]int{}
		for _, u := range uses {
			count[u.Actor+" "+u.Result+" "+u.Reason]++
		}
		for line, n := range map[string]int{
			"access-key:" + viewerID + " ok ListIdentityPools":                                    2,
			"access-key:" + viewerID + " ok ListIdentities":                                       2,
			"access-key:" + viewerID + " ok DescribeIdentity":                                     2,
			"access-key:" + viewerID + " refused DeleteIdentities: AccessDeniedException":         2,
			"access-key:" + editorID + " refused ListIdentityPools: InvalidSignatureException":    3,
			"access-key:" + editorID + " ok DeleteIdentities":                                     2,
			"access-key:" + editorID + " refused DescribeIdentity: ResourceNotFoundException":     2,
			"access-key:" + viewerID + " refused ListIdentityPools: UnrecognizedClientException":  1,
			"access-key:" + editorID + " ok ListIdentityPools":                                    1,
			"access-key:" + editorID + " ok CreateIdentityPool":                                   2,
			"access-key:" + editorID + " ok ListIdentities":                                       2,
			"access-key:" + editorID + " ok DeleteIdentityPool":                                   2,
			"access-key:" + viewerID + " refused DeleteIdentityPool: AccessDeniedException":       2,
			"access-key:" + editorID + " refused DescribeIdentityPool: ResourceNotFoundException": 2,
		} {
			if count[line] != n {
				t.Errorf("audit has %d × %q, want %d", count[line], line, n)
			}
		}
		changes := e.audit(t, "kind=admin_change&limit=200")
		var created, disabled, rotated, deleted int
		for _, c := range changes {
			switch {
			case strings.Contains(c.Reason, "created: role"):
				created++
			case strings.HasSuffix(c.Reason, ") disabled"):
				disabled++
			case strings.HasSuffix(c.Reason, ") rotated"):
				rotated++
			case strings.HasPrefix(c.Reason, "identity deleted"):
				deleted++
			}
		}
		if created != 3 || disabled != 1 || rotated != 1 || deleted != 2 {
			t.Errorf("admin changes: %d created, %d disabled, %d rotated, %d identities deleted; want 3, 1, 1, 2", created, disabled, rotated, deleted)
		}
		var pools int
		for _, c := range changes {
			if c.Actor == "access-key:"+editorID && c.Version > 0 && strings.Contains(c.Reason, "identity pool") {
				pools++
			}
		}
		if pools != 4 {
			t.Errorf("%d pool changes by the editor's key in the history, want 4 (two created, two deleted)", pools)
		}
	})
}

// awsCLIScript is one AWS CLI's session: reads with the viewer's key (one
// pool), a refused delete, a wrong secret, a delete with the editor's key.
func awsCLIScript(t *testing.T, e *env, bin, user, key, viewerID, viewerSecret, editorID, editorSecret string) {
	ids, err := cognitoSDK(e.url).GetId(context.Background(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolMobileID),
		Logins: map[string]string{key: e.token(user, e2eMobileClient, 10*time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	identity := aws.ToString(ids.IdentityId)

	out, stderr, err := e.awsCLI(bin, viewerID, viewerSecret, "cognito-identity", "list-identity-pools", "--max-results", "10")
	if err != nil || !strings.Contains(out, poolMobileID) || strings.Contains(out, poolGatewayID) {
		t.Fatalf("viewer of one pool list-identity-pools: %v\n%s%s", err, out, stderr)
	}
	out, stderr, err = e.awsCLI(bin, viewerID, viewerSecret, "cognito-identity", "list-identities", "--identity-pool-id", poolMobileID, "--max-results", "60")
	if err != nil || !strings.Contains(out, identity) {
		t.Fatalf("list-identities: %v\n%s%s", err, out, stderr)
	}
	out, stderr, err = e.awsCLI(bin, viewerID, viewerSecret, "cognito-identity", "describe-identity", "--identity-id", identity)
	var d struct {
		IdentityId string
		Logins     []string
	}
	if err != nil || json.Unmarshal([]byte(out), &d) != nil || d.IdentityId != identity || len(d.Logins) != 1 || d.Logins[0] != key {
		t.Fatalf("describe-identity: %v\n%s%s", err, out, stderr)
	}
	_, stderr, err = e.awsCLI(bin, viewerID, viewerSecret, "cognito-identity", "delete-identities", "--identity-ids-to-delete", identity)
	if err == nil || !strings.Contains(stderr, "AccessDeniedException") {
		t.Fatalf("a viewer's delete-identities: %v\n%s", err, stderr)
	}
	_, stderr, err = e.awsCLI(bin, editorID, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "cognito-identity", "list-identity-pools", "--max-results", "10")
	if err == nil || !strings.Contains(stderr, "InvalidSignatureException") {
		t.Fatalf("a wrong secret: %v\n%s", err, stderr)
	}
	out, stderr, err = e.awsCLI(bin, editorID, editorSecret, "cognito-identity", "delete-identities", "--identity-ids-to-delete", identity)
	if err != nil || !strings.Contains(out, `"UnprocessedIdentityIds": []`) {
		t.Fatalf("editor delete-identities: %v\n%s%s", err, out, stderr)
	}
	_, stderr, err = e.awsCLI(bin, editorID, editorSecret, "cognito-identity", "describe-identity", "--identity-id", identity)
	if err == nil || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("describe-identity after delete: %v\n%s", err, stderr)
	}

	// A pool's life: create, use, list its identities, delete.
	out, stderr, err = e.awsCLI(bin, editorID, editorSecret, "cognito-identity", "create-identity-pool", "--identity-pool-name", "Partner "+user,
		"--no-allow-unauthenticated-identities", "--supported-login-providers", key+"="+e2eMobileClient)
	var made struct{ IdentityPoolId, IdentityPoolName string }
	if err != nil || json.Unmarshal([]byte(out), &made) != nil || !strings.HasPrefix(made.IdentityPoolId, "us-east-1:") || made.IdentityPoolName != "Partner "+user {
		t.Fatalf("create-identity-pool: %v\n%s%s", err, out, stderr)
	}
	inNew, err := cognitoSDK(e.url).GetId(context.Background(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(made.IdentityPoolId),
		Logins: map[string]string{key: e.token(user, e2eMobileClient, 10*time.Minute)}})
	if err != nil {
		t.Fatalf("GetId in the new pool: %v", err)
	}
	out, stderr, err = e.awsCLI(bin, editorID, editorSecret, "cognito-identity", "list-identities", "--identity-pool-id", made.IdentityPoolId, "--max-results", "10")
	if err != nil || !strings.Contains(out, aws.ToString(inNew.IdentityId)) {
		t.Fatalf("list-identities of the new pool: %v\n%s%s", err, out, stderr)
	}
	_, stderr, err = e.awsCLI(bin, viewerID, viewerSecret, "cognito-identity", "delete-identity-pool", "--identity-pool-id", made.IdentityPoolId)
	if err == nil || !strings.Contains(stderr, "AccessDeniedException") {
		t.Fatalf("a viewer's delete-identity-pool: %v\n%s", err, stderr)
	}
	if out, stderr, err = e.awsCLI(bin, editorID, editorSecret, "cognito-identity", "delete-identity-pool", "--identity-pool-id", made.IdentityPoolId); err != nil {
		t.Fatalf("delete-identity-pool: %v\n%s%s", err, out, stderr)
	}
	if _, stderr, err = e.awsCLI(bin, editorID, editorSecret, "cognito-identity", "describe-identity-pool", "--identity-pool-id", made.IdentityPoolId); err == nil ||
		!strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("describe-identity-pool after delete: %v\n%s", err, stderr)
	}
}
