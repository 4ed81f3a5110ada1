package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"fedgate/exchange/rules"
	"fedgate/gateway/config"
)

const examplesDir = "../../configs/examples"

// exampleVar is a ${VAR} an example file reads from the environment.
var exampleVar = regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`)

// trustPolicyLine is the IAM setup command each example's comments give.
var trustPolicyLine = regexp.MustCompile(`(?m)^#\s+fedgate trust-policy --config (\S+) --pool (\S+)$`)

// Every example passes `fedgate check`, and the IAM setup command its
// comments give works on it.
func TestExampleConfigsCheck(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil || len(files) < 8 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, src := range files {
		t.Run(filepath.Base(src), func(t *testing.T) {
			path := copyExample(t, src)
			code, out, stderr := runCmd(t, "", "check", "--config", path)
			if code != 0 || !strings.Contains(out, "OK") {
				t.Fatalf("fedgate check: exit %d\n%s%s", code, out, stderr)
			}
			raw, _ := os.ReadFile(src)
			m := trustPolicyLine.FindStringSubmatch(string(raw))
			if m == nil || m[1] != filepath.Base(src) {
				t.Fatalf("no `fedgate trust-policy --config %s --pool P` line in its IAM setup comment", filepath.Base(src))
			}
			code, out, stderr = runCmd(t, "", "trust-policy", "--config", path, "--pool", m[2])
			if code != 0 || !strings.Contains(out, "sts:AssumeRoleWithWebIdentity") || !strings.Contains(out, "create-open-id-connect-provider") {
				t.Errorf("fedgate trust-policy --pool %s: exit %d\n%s%s", m[2], code, out, stderr)
			}
		})
	}
}

// copyExample copies an example to a folder of its own (its SQLite store
// would go beside it) and sets the variables it reads.
func copyExample(t *testing.T, src string) string {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range exampleVar.FindAllStringSubmatch(string(raw), -1) {
		value := "example-" + strings.ToLower(m[1])
		if m[1] == "FEDGATE_MASTER_KEY" {
			value = "3q2+7w0eHh4fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8=" // test-only key
		}
		t.Setenv(m[1], value)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Each example's rules do what its comments promise, on claims shaped as
// that IdP really sends them.
func TestExampleConfigsRules(t *testing.T) {
	const acct = "arn:aws:iam::123456789012:role/"
	cases := []struct {
		file   string
		who    string
		claims map[string]any
		roles  []string // granted, best first; none: denied
	}{
		{"okta.yaml", "engineer", map[string]any{"sub": "00u1a2b3c4", "email": "dev@example.com", "groups": []any{"Everyone", "aws-engineering"}}, []string{"engineering-read"}},
		{"okta.yaml", "admin who is also SRE", map[string]any{"sub": "00u5", "email": "ops@example.com", "groups": []any{"aws-platform-admins", "aws-sre"}}, []string{"platform-admin", "engineering-read"}},
		{"okta.yaml", "contractor address", map[string]any{"sub": "00u6", "email": "x@contractor.example", "groups": []any{"aws-engineering"}}, nil},

		{"entra-id.yaml", "reader", map[string]any{"oid": "9a1f", "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47", "preferred_username": "ana@example.com", "roles": []any{"AWS.Reader"}}, []string{"prod-read"}},
		{"entra-id.yaml", "admin of another tenant", map[string]any{"tid": "00000000-0000-0000-0000-000000000001", "roles": []any{"AWS.Admin"}}, nil},

		{"google-workspace.yaml", "data engineer", map[string]any{"sub": "1098", "hd": "example.com", "email": "ana@example.com", "email_verified": true}, []string{"data-engineer"}},
		{"google-workspace.yaml", "colleague", map[string]any{"sub": "1099", "hd": "example.com", "email": "lee@example.com", "email_verified": true}, []string{"docs-read"}},
		{"google-workspace.yaml", "consumer account", map[string]any{"sub": "1100", "email": "ana@gmail.com", "email_verified": true}, nil},

		{"keycloak.yaml", "platform admin", map[string]any{"sub": "f4c1", "preferred_username": "ana", "realm_access": map[string]any{"roles": []any{"offline_access", "aws-admin"}},
			"groups": []any{"/platform/sre"}, "resource_access": map[string]any{"fedgate": map[string]any{"roles": []any{"deployer"}}}}, []string{"platform-admin", "platform-read", "deployer"}},
		{"keycloak.yaml", "sales", map[string]any{"sub": "f4c2", "realm_access": map[string]any{"roles": []any{"offline_access"}}, "groups": []any{"/sales"}}, nil},

		{"auth0.yaml", "reader", map[string]any{"sub": "auth0|64f", "email_verified": true, "https://fedgate.example.com/roles": []any{"aws-reader"}}, []string{"product-read"}},
		{"auth0.yaml", "admin", map[string]any{"sub": "auth0|650", "email_verified": true, "https://fedgate.example.com/roles": []any{"aws-admin"}}, []string{"product-admin", "product-read"}},
		{"auth0.yaml", "no roles claim", map[string]any{"sub": "google-oauth2|1", "email_verified": true}, nil},

		{"github-actions.yaml", "deploy workflow on main", map[string]any{"sub": "repo:example-org/infrastructure:environment:production", "repository": "example-org/infrastructure",
			"repository_owner": "example-org", "repository_owner_id": "1234567", "ref": "refs/heads/main", "environment": "production", "event_name": "push",
			"job_workflow_ref": "example-org/infrastructure/.github/workflows/deploy.yml@refs/heads/main", "actor": "ana", "run_id": "9876543210"}, []string{"deploy-prod"}},
		{"github-actions.yaml", "pull request of the repo", map[string]any{"sub": "repo:example-org/infrastructure:pull_request", "repository": "example-org/infrastructure",
			"repository_owner_id": "1234567", "ref": "refs/pull/42/merge", "event_name": "pull_request", "job_workflow_ref": "example-org/infrastructure/.github/workflows/ci.yml@refs/pull/42/merge"}, []string{"ci-artifacts-read"}},
		{"github-actions.yaml", "a look-alike org", map[string]any{"repository": "example-org/infrastructure", "repository_owner_id": "7654321", "ref": "refs/heads/main",
			"environment": "production", "event_name": "push", "job_workflow_ref": "example-org/infrastructure/.github/workflows/deploy.yml@refs/heads/main"}, nil},

		{"gitlab-ci.yaml", "protected production deploy", map[string]any{"sub": "project_path:platform/infra:ref_type:branch:ref:main", "namespace_id": "4242", "project_path": "platform/infra",
			"ref": "main", "ref_type": "branch", "ref_protected": "true", "environment": "production", "environment_protected": "true", "pipeline_source": "push"}, []string{"gitlab-deploy"}},
		{"gitlab-ci.yaml", "merge request pipeline", map[string]any{"namespace_id": "4242", "project_path": "platform/infra", "ref_protected": "false", "pipeline_source": "merge_request_event"}, []string{"gitlab-read"}},
		{"gitlab-ci.yaml", "unprotected branch", map[string]any{"namespace_id": "4242", "ref_protected": "false", "environment": "production", "environment_protected": "true", "pipeline_source": "push"}, nil},

		{"kubernetes.yaml", "the billing exporter", map[string]any{"sub": "system:serviceaccount:billing:cost-exporter",
			"kubernetes.io": map[string]any{"namespace": "billing", "serviceaccount": map[string]any{"name": "cost-exporter", "uid": "7e1f"}}}, []string{"cost-exporter"}},
		{"kubernetes.yaml", "a loader in data-ingest", map[string]any{"sub": "system:serviceaccount:data-ingest:loader",
			"kubernetes.io": map[string]any{"namespace": "data-ingest", "serviceaccount": map[string]any{"name": "loader"}}}, []string{"lake-read"}},
		{"kubernetes.yaml", "the default service account", map[string]any{"sub": "system:serviceaccount:data-ingest:default",
			"kubernetes.io": map[string]any{"namespace": "data-ingest", "serviceaccount": map[string]any{"name": "default"}}}, nil},
		{"kubernetes.yaml", "a namespace that only starts like one", map[string]any{"sub": "system:serviceaccount:data-ingest-dev:loader",
			"kubernetes.io": map[string]any{"namespace": "data-ingest-dev", "serviceaccount": map[string]any{"name": "loader"}}}, nil},
	}
	mappings := map[string]*rules.Mapping{}
	for _, tc := range cases {
		t.Run(strings.TrimSuffix(tc.file, ".yaml")+"/"+tc.who, func(t *testing.T) {
			m, ok := mappings[tc.file]
			if !ok {
				m = examplePoolMapping(t, tc.file)
				mappings[tc.file] = m
			}
			var got []string
			for _, g := range m.Evaluate(tc.claims).Grants {
				got = append(got, strings.TrimPrefix(g.Role, acct))
			}
			if !slices.Equal(got, tc.roles) {
				t.Errorf("roles = %v, want %v", got, tc.roles)
			}
		})
	}
}

// examplePoolMapping compiles the rules of the example's only pool.
func examplePoolMapping(t *testing.T, file string) *rules.Mapping {
	t.Helper()
	path := copyExample(t, filepath.Join(examplesDir, file))
	f, err := config.LoadFile(path, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Pools) != 1 {
		t.Fatalf("%s has %d pools, want 1", file, len(f.Pools))
	}
	m, problems := rules.Compile(f.Pools[0].RulesSpec())
	if len(problems) > 0 {
		t.Fatalf("%s: %v", file, problems)
	}
	return m
}
