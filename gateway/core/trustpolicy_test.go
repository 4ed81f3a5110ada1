package core

import (
	"encoding/json"
	oidcidp "fedgate/idp/oidc"
	"reflect"
	"strings"
	"testing"

	"fedgate/exchange/rules"
	"fedgate/gateway/config"
)

const (
	tpTeam   = "us-east-1:00000000-0000-4000-8000-000000000001"
	tpTagged = "us-east-1:00000000-0000-4000-8000-000000000002"
	tpGuests = "us-east-1:00000000-0000-4000-8000-000000000003"
	tpOwn    = "us-east-1:00000000-0000-4000-8000-000000000004"
	tpUp     = "us-east-1:00000000-0000-4000-8000-000000000005"
	tpRuleTg = "us-east-1:00000000-0000-4000-8000-000000000006"
	tpOwnGst = "us-east-1:00000000-0000-4000-8000-000000000007"
	tpArn    = "arn:aws:iam::123456789012:role/"
)

func tpConfig(t *testing.T) *config.File {
	rule := func(name, role string, tags map[string]string) rules.RuleSpec {
		return rules.RuleSpec{Name: name, Match: []rules.Condition{{Claim: "sub", Op: "exists"}}, Role: tpArn + role, Tags: tags}
	}
	f := &config.File{
		Server: config.Server{PublicURL: "https://fedgate.example.com"},
		Keys:   config.Keys{MasterKey: "x"},
		Providers: []config.Provider{
			{ID: "corp", Type: config.ProviderOIDC, Settings: &oidcidp.Settings{Issuer: "https://idp.example.com/tenant", ClientID: "corp-client"}},
			{ID: "other", Type: config.ProviderOIDC, Settings: &oidcidp.Settings{Issuer: "https://login.other.example", ClientID: "other-client"}},
		},
		Pools: []config.Pool{
			{ID: tpTeam, Name: "team", Providers: []string{"corp"}, NoMatch: rules.DefaultRole, AuthenticatedRole: tpArn + "fallback",
				Rules: []rules.RuleSpec{rule("admins", "admin", nil), rule("devs", "reader", nil), rule("", "reader", nil)}},
			{ID: tpTagged, Name: "tagged", Providers: []string{"corp"}, PrincipalTags: map[string]string{"dept": "dept"},
				Rules: []rules.RuleSpec{rule("all", "tagged", nil)}},
			{ID: tpRuleTg, Name: "ruletags", Providers: []string{"corp"},
				Rules: []rules.RuleSpec{rule("gold", "gold", map[string]string{"tier": "gold"})}},
			{ID: tpGuests, Name: "guests", Providers: []string{"corp"}, AllowGuests: true, UnauthenticatedRole: tpArn + "guest",
				Rules: []rules.RuleSpec{rule("all", "member", nil)}},
			{ID: tpOwn, Name: "own", Providers: []string{"corp"}, OwnIssuer: true,
				Rules: []rules.RuleSpec{rule("all", "own", nil)}},
			{ID: tpOwnGst, Name: "ownguests", Providers: []string{"corp"}, OwnIssuer: true, AllowGuests: true, UnauthenticatedRole: tpArn + "ownguest",
				PrincipalTags: map[string]string{"dept": "dept"}, Rules: []rules.RuleSpec{rule("all", "ownmember", nil)}},
			{ID: tpUp, Name: "up", Providers: []string{"corp", "other"}, Mode: config.ModeUpstreamToken,
				Rules: []rules.RuleSpec{rule("all", "upstream", nil)}},
		},
	}
	f.ApplyDefaults()
	if ps := f.Validate(); len(ps) > 0 {
		t.Fatalf("config: %v", ps)
	}
	return f
}

// tpStatement is one trust statement, decoded.
type tpStatement struct {
	Effect    string
	Principal struct{ Federated string }
	Action    any
	Condition map[string]map[string]string
}

func TestTrustPolicies(t *testing.T) {
	f := tpConfig(t)
	const root = "arn:aws:iam::123456789012:oidc-provider/fedgate.example.com"
	rootAuds := tpTeam + " " + tpTagged + " " + tpRuleTg + " " + tpGuests + " " + tpGuests + ":unauthenticated"
	type roleWant struct {
		arn, federated, audKey, aud string
		actions                     []string
		why                         string
	}
	web := []string{"sts:AssumeRoleWithWebIdentity"}
	tagged := []string{"sts:AssumeRoleWithWebIdentity", "sts:TagSession"}
	tests := []struct {
		pool, issuer, register string
		roles                  []roleWant
	}{
		{"team", "https://fedgate.example.com", "aws iam create-open-id-connect-provider --url https://fedgate.example.com --client-id-list " + rootAuds, []roleWant{
			{tpArn + "admin", root, "fedgate.example.com:aud", tpTeam, web, "rule admins"},
			{tpArn + "fallback", root, "fedgate.example.com:aud", tpTeam, web, "authenticated_role (no rule matched)"},
			{tpArn + "reader", root, "fedgate.example.com:aud", tpTeam, web, "rule devs; rule #3"},
		}},
		{tpTagged, "https://fedgate.example.com", "aws iam create-open-id-connect-provider --url https://fedgate.example.com --client-id-list " + rootAuds, []roleWant{
			{tpArn + "tagged", root, "fedgate.example.com:aud", tpTagged, tagged, "rule all"},
		}},
		{"ruletags", "https://fedgate.example.com", "aws iam create-open-id-connect-provider --url https://fedgate.example.com --client-id-list " + rootAuds, []roleWant{
			{tpArn + "gold", root, "fedgate.example.com:aud", tpRuleTg, tagged, "rule gold"},
		}},
		{"guests", "https://fedgate.example.com", "aws iam create-open-id-connect-provider --url https://fedgate.example.com --client-id-list " + rootAuds, []roleWant{
			{tpArn + "member", root, "fedgate.example.com:aud", tpGuests, web, "rule all"},
			{tpArn + "guest", root, "fedgate.example.com:aud", tpGuests + ":unauthenticated", web, "unauthenticated_role (guests)"},
		}},
		{"own", "https://fedgate.example.com/pools/own", "aws iam create-open-id-connect-provider --url https://fedgate.example.com/pools/own --client-id-list " + tpOwn, []roleWant{
			{tpArn + "own", root + "/pools/own", "fedgate.example.com/pools/own:aud", tpOwn, web, "rule all"},
		}},
		{"ownguests", "https://fedgate.example.com/pools/ownguests", "aws iam create-open-id-connect-provider --url https://fedgate.example.com/pools/ownguests --client-id-list " + tpOwnGst + " " + tpOwnGst + ":unauthenticated", []roleWant{
			{tpArn + "ownmember", root + "/pools/ownguests", "fedgate.example.com/pools/ownguests:aud", tpOwnGst, tagged, "rule all"},
			{tpArn + "ownguest", root + "/pools/ownguests", "fedgate.example.com/pools/ownguests:aud", tpOwnGst + ":unauthenticated", web, "unauthenticated_role (guests)"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.pool, func(t *testing.T) {
			rep, err := TrustPolicies(f, tt.pool)
			if err != nil {
				t.Fatal(err)
			}
			if rep.IssuerURL != tt.issuer {
				t.Errorf("issuer %q, want %q", rep.IssuerURL, tt.issuer)
			}
			if rep.RegisterIn != tt.register {
				t.Errorf("register command\n got %s\nwant %s", rep.RegisterIn, tt.register)
			}
			if len(rep.Roles) != len(tt.roles) {
				t.Fatalf("%d roles, want %d: %+v", len(rep.Roles), len(tt.roles), rep.Roles)
			}
			for i, want := range tt.roles {
				got := rep.Roles[i]
				if got.RoleARN != want.arn || got.Why != want.why {
					t.Errorf("role %d: %s (%s), want %s (%s)", i, got.RoleARN, got.Why, want.arn, want.why)
				}
				var doc struct {
					Version   string
					Statement []tpStatement
				}
				if err := json.Unmarshal([]byte(got.Policy), &doc); err != nil {
					t.Fatal(err)
				}
				if doc.Version != "2012-10-17" || len(doc.Statement) != 1 {
					t.Fatalf("policy %s", got.Policy)
				}
				st := doc.Statement[0]
				var actions []string
				for _, a := range st.Action.([]any) {
					actions = append(actions, a.(string))
				}
				if st.Effect != "Allow" || st.Principal.Federated != want.federated || !reflect.DeepEqual(actions, want.actions) {
					t.Errorf("%s: statement %+v, want federated %s actions %v", want.arn, st, want.federated, want.actions)
				}
				if cond := st.Condition["StringEquals"]; len(cond) != 1 || cond[want.audKey] != want.aud {
					t.Errorf("%s: condition %v, want %s = %s", want.arn, st.Condition, want.audKey, want.aud)
				}
			}
		})
	}
}

// upstream-token pools trust the upstream IdP on its client id, one
// statement per OIDC provider; fedgate registers nothing.
func TestTrustPoliciesUpstreamToken(t *testing.T) {
	rep, err := TrustPolicies(tpConfig(t), "up")
	if err != nil {
		t.Fatal(err)
	}
	if rep.RegisterIn != "" {
		t.Errorf("register command %q for an upstream-token pool", rep.RegisterIn)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "upstream-token mode") {
		t.Errorf("an upstream-token pool's report does not warn that the rules are not enforced by IAM: %q", rep.Warnings)
	}
	if len(rep.Roles) != 1 {
		t.Fatalf("roles %+v", rep.Roles)
	}
	var doc struct{ Statement []tpStatement }
	if err := json.Unmarshal([]byte(rep.Roles[0].Policy), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"arn:aws:iam::123456789012:oidc-provider/idp.example.com/tenant": {"idp.example.com/tenant:aud", "corp-client"},
		"arn:aws:iam::123456789012:oidc-provider/login.other.example":    {"login.other.example:aud", "other-client"},
	}
	if len(doc.Statement) != len(want) {
		t.Fatalf("%d statements: %s", len(doc.Statement), rep.Roles[0].Policy)
	}
	for _, st := range doc.Statement {
		w, ok := want[st.Principal.Federated]
		if !ok || st.Condition["StringEquals"][w[0]] != w[1] || st.Action != "sts:AssumeRoleWithWebIdentity" {
			t.Errorf("statement %+v", st)
		}
	}
}

func TestTrustPoliciesUnknownPool(t *testing.T) {
	if _, err := TrustPolicies(tpConfig(t), "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v", err)
	}
}

// The partition and account come from each role's ARN.
func TestTrustPoliciesPartition(t *testing.T) {
	f := tpConfig(t)
	f.Pools[0].Rules = []rules.RuleSpec{{Name: "gov", Match: []rules.Condition{{Claim: "sub", Op: "exists"}}, Role: "arn:aws-us-gov:iam::210987654321:role/gov"}}
	f.Pools[0].NoMatch = ""
	rep, err := TrustPolicies(f, "team")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.Roles[0].Policy, `"arn:aws-us-gov:iam::210987654321:oidc-provider/fedgate.example.com"`) {
		t.Errorf("policy %s", rep.Roles[0].Policy)
	}
}

// The classic flow hands apps a token every role of the pool trusts, so
// the report says so; a pool without it carries no such warning.
func TestTrustPoliciesWarnAboutTheClassicFlow(t *testing.T) {
	f := tpConfig(t)
	rep, err := TrustPolicies(f, f.Pools[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings without the classic flow: %q", rep.Warnings)
	}
	f.Pools[0].AllowClassicFlow = true
	rep, err = TrustPolicies(f, f.Pools[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "allow_classic_flow") {
		t.Errorf("classic flow warnings: %q", rep.Warnings)
	}
}
