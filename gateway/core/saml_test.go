package core

import (
	"context"
	"errors"
	samlidp "fedgate/idp/saml"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fedgate/exchange/modes"
	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/store"
	"fedgate/idp"
)

func TestSAMLReplayCacheSharedOverTheStore(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "fedgate.db")
	st1, err := store.OpenSQLite(context.Background(), path, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer st1.Close()
	st2, err := store.OpenSQLite(context.Background(), path, clock) // a second replica on the same database
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	a, b := samlReplay{st: st1, now: clock}, samlReplay{st: st2, now: clock}
	ctx := context.Background()
	if err := a.Remember(ctx, "_assertion-1", now.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := b.Remember(ctx, "_assertion-1", now.Add(5*time.Minute)); !errors.Is(err, idp.ErrReplay) {
		t.Fatalf("replay on another replica: err = %v, want ErrReplay", err)
	}
	// An assertion about to expire (or past it, within skew) is still held.
	if err := a.Remember(ctx, "_assertion-2", now.Add(-time.Second)); err != nil {
		t.Fatalf("near-expiry assertion: %v", err)
	}
	if err := a.Remember(ctx, "_assertion-2", now.Add(time.Hour)); !errors.Is(err, idp.ErrReplay) {
		t.Fatalf("near-expiry assertion replayed: err = %v", err)
	}
	if err := a.Remember(ctx, "", now.Add(time.Hour)); err == nil {
		t.Fatal("an empty assertion id was accepted")
	}
}

func TestNarrowSAMLForward(t *testing.T) {
	const (
		reader = "arn:aws:iam::123456789012:role/reader"
		admin  = "arn:aws:iam::123456789012:role/admin"
		prov   = "arn:aws:iam::123456789012:saml-provider/okta"
		other  = "arn:aws:iam::123456789012:saml-provider/other"
	)
	granted := rules.Decision{Source: rules.SourceRule, Grants: []rules.Grant{{Role: reader, Rule: "r"}, {Role: admin, Rule: "a"}}}
	tests := []struct {
		name      string
		mode      string
		roleClaim any
		want      []string
	}{
		{"other modes are untouched", config.ModeGatewayToken, nil, []string{reader, admin}},
		{"only roles the assertion offers", config.ModeSAMLForward, reader + "," + prov, []string{reader}},
		{"either order, several values", config.ModeSAMLForward, []any{prov + "," + admin, reader + "," + prov}, []string{reader, admin}},
		{"another IAM provider does not count", config.ModeSAMLForward, reader + "," + other, nil},
		{"no Role attribute, no role", config.ModeSAMLForward, nil, nil},
		{"a malformed value is ignored", config.ModeSAMLForward, []any{"not-an-arn," + prov, reader}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := map[string]any{}
			if tt.roleClaim != nil {
				claims[idp.AWSRoleAttribute] = tt.roleClaim
			}
			spec, _ := modes.Lookup(tt.mode)
			p := &Principal{Pool: &Pool{Cfg: config.Pool{Mode: tt.mode, SAMLProviderARN: prov}, Spec: spec}, Ident: &idp.Identity{Claims: claims}}
			d := NarrowSAMLForward(p, granted)
			var got []string
			for _, g := range d.Grants {
				got = append(got, g.Role)
				if tt.mode == config.ModeSAMLForward && g.Provider != prov {
					t.Errorf("grant %s has provider %q", g.Role, g.Provider)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("roles = %v, want %v", got, tt.want)
			}
			if len(got) == 0 && d.Source != rules.SourceNone {
				t.Errorf("an empty decision has source %q", d.Source)
			}
		})
	}
}

func TestSAMLTrustPolicies(t *testing.T) {
	f := &config.File{
		Server: config.Server{PublicURL: "https://fedgate.example.com"},
		Keys:   config.Keys{MasterKey: "x"},
		Providers: []config.Provider{
			{ID: "okta", Type: config.ProviderSAML, Settings: &samlidp.Settings{IdPMetadataURL: "https://okta.example.com/md"}},
		},
		Pools: []config.Pool{
			{ID: tpTeam, Name: "fwd", Providers: []string{"okta"}, Mode: config.ModeSAMLForward,
				SAMLProviderARN: "arn:aws:iam::123456789012:saml-provider/okta",
				Rules:           []rules.RuleSpec{{Name: "all", Match: []rules.Condition{{Claim: "sub", Op: "exists"}}, Role: tpArn + "reader"}}},
			{ID: tpTagged, Name: "broker", Providers: []string{"okta"}, Mode: config.ModeSAMLBroker, PrincipalTags: map[string]string{"dept": "dept"},
				SAMLProviderARN: "arn:aws:iam::123456789012:saml-provider/fedgate",
				Rules:           []rules.RuleSpec{{Name: "all", Match: []rules.Condition{{Claim: "sub", Op: "exists"}}, Role: tpArn + "reader"}}},
		},
	}
	f.ApplyDefaults()
	if ps := f.Validate(); len(ps) > 0 {
		t.Fatal(ps)
	}
	tests := []struct {
		pool, federated, register string
		actions                   []string
	}{
		{"fwd", "arn:aws:iam::123456789012:saml-provider/okta", "create-saml-provider --name okta", []string{"sts:AssumeRoleWithSAML"}},
		{"broker", "arn:aws:iam::123456789012:saml-provider/fedgate", "fedgate saml-metadata", []string{"sts:AssumeRoleWithSAML", "sts:TagSession"}},
	}
	for _, tt := range tests {
		rep, err := TrustPolicies(f, tt.pool)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Roles) != 1 || !strings.Contains(rep.RegisterIn, tt.register) || rep.RegisterWhat == "" {
			t.Fatalf("%s: report %+v", tt.pool, rep)
		}
		pol := rep.Roles[0].Policy
		for _, want := range append([]string{`"Federated": "` + tt.federated + `"`, `"SAML:aud": "https://signin.aws.amazon.com/saml"`}, tt.actions...) {
			if !strings.Contains(pol, want) {
				t.Errorf("%s: policy lacks %s:\n%s", tt.pool, want, pol)
			}
		}
		if strings.Contains(pol, "AssumeRoleWithWebIdentity") {
			t.Errorf("%s: SAML policy trusts web identities", tt.pool)
		}
	}
}

func TestFromSAML(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{idp.ErrTooLarge, http.StatusRequestEntityTooLarge, CodeTooLarge},
		{idp.ErrReplay, http.StatusBadRequest, CodeInvalidToken},
		{idp.ErrUnsolicited, http.StatusBadRequest, CodeInvalidToken},
		{idp.ErrExpiredToken, http.StatusUnauthorized, CodeExpiredToken},
		{idp.ErrWrongAudience, http.StatusUnauthorized, CodeInvalidToken},
		{idp.ErrWrongRecipient, http.StatusUnauthorized, CodeInvalidToken},
		{idp.ErrInvalidToken, http.StatusUnauthorized, CodeInvalidToken},
		{idp.ErrUpstream, http.StatusBadGateway, CodeUpstream},
	}
	for _, tt := range tests {
		err := fmt.Errorf("%w: secret detail /etc/fedgate/key.pem", tt.err)
		e := FromSAML(err)
		if e.Status != tt.status || e.Code != tt.code || !errors.Is(e, tt.err) {
			t.Errorf("%v: got %d %s", tt.err, e.Status, e.Code)
		}
		if strings.Contains(e.Message, "secret detail") || strings.Contains(e.Message, "/etc/") {
			t.Errorf("%v: public message leaks the cause: %q", tt.err, e.Message)
		}
	}
}

// Assertion ids are unique per IdP only: one configured IdP cannot spend
// (or block) an id another IdP issued.
func TestSAMLReplayCacheIsPerProvider(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "fedgate.db"), clock)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	okta, other := samlReplay{st: st, now: clock, provider: "okta"}, samlReplay{st: st, now: clock, provider: "other"}
	if err := other.Remember(ctx, "_predictable-1", now.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := okta.Remember(ctx, "_predictable-1", now.Add(5*time.Minute)); err != nil {
		t.Fatalf("an id another IdP used blocked this IdP's assertion: %v", err)
	}
	if err := okta.Remember(ctx, "_predictable-1", now.Add(5*time.Minute)); !errors.Is(err, idp.ErrReplay) {
		t.Fatalf("a replay at the same IdP: err = %v, want ErrReplay", err)
	}
}
