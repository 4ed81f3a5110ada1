package oauth2

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"fedgate/idp"
	"fedgate/idp/settings"
)

var testSite = idp.Site{ID: "hub", PublicURL: "https://fedgate.example.com"}

func goodSettings() *Settings {
	return &Settings{
		AuthorizationURL: "https://github.com/login/oauth/authorize",
		TokenURL:         "https://github.com/login/oauth/access_token",
		UserInfoURL:      "https://api.github.com/user",
		ClientID:         "Ov23li0123456789abcd",
		ClientSecret:     "s3cret",
		Scopes:           []string{"read:user"},
		SubjectClaim:     "id",
		Claims:           map[string]string{"login": "login", "company": "company"},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Settings)
		want   []string // problem keys, in order
	}{
		{"good", func(*Settings) {}, nil},
		{"loopback http is allowed", func(s *Settings) {
			s.AuthorizationURL, s.TokenURL, s.UserInfoURL, s.Issuer = "http://127.0.0.1:9/a", "http://localhost:9/t", "http://[::1]:9/u", "http://127.0.0.1:9"
		}, nil},
		{"public client", func(s *Settings) { s.ClientSecret, s.TokenAuthMethod = "", authNone }, nil},
		{"client_secret_post", func(s *Settings) { s.TokenAuthMethod = authPost }, nil},
		{"default subject", func(s *Settings) { s.SubjectClaim = "" }, nil},
		{"issuer with a path", func(s *Settings) { s.Issuer = "https://github.com/login/oauth" }, nil},
		{"everything missing", func(s *Settings) { *s = Settings{} },
			[]string{"authorization_url", "token_url", "userinfo_url", "client_id"}},
		{"plain http elsewhere", func(s *Settings) {
			s.AuthorizationURL, s.TokenURL, s.UserInfoURL = "http://github.com/a", "http://github.com/t", "http://api.github.com/u"
		}, []string{"authorization_url", "token_url", "userinfo_url"}},
		{"not URLs", func(s *Settings) { s.TokenURL, s.UserInfoURL = "token", "ftp://x.example/u" }, []string{"token_url", "userinfo_url"}},
		{"basic without a secret", func(s *Settings) { s.ClientSecret, s.TokenAuthMethod = "", authBasic }, []string{"token_auth_method"}},
		{"none with a secret", func(s *Settings) { s.TokenAuthMethod = authNone }, []string{"token_auth_method"}},
		{"unknown auth method", func(s *Settings) { s.TokenAuthMethod = "private_key_jwt" }, []string{"token_auth_method"}},
		{"bad scopes", func(s *Settings) { s.Scopes = []string{"ok", "two words", "", `q"uote`} }, []string{"scopes[1]", "scopes[2]", "scopes[3]"}},
		{"bad subject path", func(s *Settings) { s.SubjectClaim = "a." }, []string{"subject_claim"}},
		{"bad claims", func(s *Settings) {
			s.Claims = map[string]string{"sub": "id", "b": `"open`, "a": "", "": "x"}
		}, []string{"claims", "claims.a", "claims.b", "claims.sub"}},
		{"issuer with a query", func(s *Settings) { s.Issuer = "https://github.com/?x=1" }, []string{"issuer"}},
		{"issuer not https", func(s *Settings) { s.Issuer = "http://github.com" }, []string{"issuer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := goodSettings()
			tt.modify(s)
			var got []string
			for _, p := range s.Validate(testSite) {
				got = append(got, p.Key)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems at %v, want %v (%v)", got, tt.want, s.Validate(testSite))
			}
		})
	}
}

func TestSettingsDescribeThemselves(t *testing.T) {
	s := &Settings{}
	s.ApplyDefaults(testSite)
	if s.SubjectClaim != "sub" || len(s.Scopes) != 0 || s.TokenAuthMethod != "" {
		t.Errorf("defaults %+v: want subject_claim sub and nothing else", s)
	}
	var secrets, keys []string
	for _, f := range settings.Fields(s) {
		keys = append(keys, f.Key)
		if f.Secret {
			secrets = append(secrets, f.Key)
		}
		if f.Label == "" || f.Help == "" {
			t.Errorf("%s has no label or help for the admin form", f.Key)
		}
	}
	if !slices.Equal(secrets, []string{"client_secret"}) {
		t.Errorf("secrets %v, want [client_secret]", secrets)
	}
	for _, k := range []string{"authorization_url", "token_url", "userinfo_url", "client_id", "scopes", "subject_claim", "claims", "issuer", "token_auth_method"} {
		if !slices.Contains(keys, k) {
			t.Errorf("no setting %s", k)
		}
	}
	g := goodSettings()
	g.Issuer = "https://github.com/login/oauth"
	var cfg idp.Config = g
	if ic, ok := cfg.(idp.IssuerConfig); !ok || ic.IssuerURL() != g.Issuer {
		t.Error("the issuer is not offered for RFC 9207 checks")
	}
	if sd, ok := cfg.(idp.SecretDestinationConfig); !ok || sd.SecretDestination() != g.TokenURL {
		t.Error("the client secret is not bound to the token endpoint")
	}
	if _, ok := cfg.(idp.ClientConfig); ok {
		t.Error("an oauth2 provider has no token STS could take: it must not be a ClientConfig")
	}
}

func TestOpen(t *testing.T) {
	s := goodSettings()
	s.ApplyDefaults(testSite)
	p, err := s.Open(context.Background(), idp.Env{Site: testSite, DisplayName: "GitHub", HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID() != "hub" || p.DisplayName() != "GitHub" || p.Type() != Type().Name {
		t.Errorf("opened %s %q %s", p.ID(), p.DisplayName(), p.Type())
	}
	if _, ok := p.(idp.RedirectLogin); !ok {
		t.Error("not a RedirectLogin")
	}
	authURL := p.(idp.RedirectLogin).AuthCodeURL(testFlow("state-open"))
	if !strings.HasPrefix(authURL, s.AuthorizationURL+"?") || !strings.Contains(authURL, "client_id=Ov23li0123456789abcd") {
		t.Errorf("AuthCodeURL %s", authURL)
	}
	if _, err := s.Open(context.Background(), idp.Env{Site: testSite}); !errors.Is(err, idp.ErrInvalidConfig) {
		t.Errorf("Open without an HTTP client: %v, want ErrInvalidConfig", err)
	}
}
