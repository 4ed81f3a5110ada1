package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// withPublish is validConfig with a keys.publish section of these lines.
func withPublish(lines string) string {
	return strings.Replace(validConfig, "  master_key: ${MASTER}\n", "  master_key: ${MASTER}\n  publish:\n"+lines, 1)
}

func TestPublishSection(t *testing.T) {
	env := envOf(map[string]string{"MASTER": "k", "SECRET": "s"})
	tests := []struct {
		name, yaml string
		problems   []string // paths reported, all at once
		issuer     string   // the issuer base when valid
	}{
		{"bucket alone", "    bucket: my-issuer\n", nil, "https://fedgate.example.com"},
		{"everything", "    bucket: my.issuer-1\n    prefix: fedgate/v1/\n    region: eu-west-1\n    endpoint: https://s3.example.net\n    path_style: true\n    issuer_url: https://issuer.example.com/fedgate/v1/\n    cache_max_age: 5m\n",
			nil, "https://issuer.example.com/fedgate/v1"},
		{"loopback http for tests", "    bucket: b-1\n    endpoint: http://127.0.0.1:5000\n    issuer_url: http://127.0.0.1:5000/b-1\n", nil, "http://127.0.0.1:5000/b-1"},
		{"no bucket", "    prefix: fedgate/\n", []string{"keys.publish.bucket"}, ""},
		{"bad names and URLs, all at once",
			"    bucket: My_Bucket\n    prefix: /fedgate\n    region: europe\n    endpoint: ftp://s3.example.net\n    issuer_url: http://issuer.example.com\n    cache_max_age: 2h\n",
			[]string{"keys.publish.bucket", "keys.publish.prefix", "keys.publish.region", "keys.publish.endpoint", "keys.publish.issuer_url", "keys.publish.cache_max_age"}, ""},
		{"prefix needs a trailing slash", "    bucket: b-1\n    prefix: fedgate\n", []string{"keys.publish.prefix"}, ""},
		{"issuer with a port", "    bucket: b-1\n    issuer_url: https://issuer.example.com:8443\n", []string{"keys.publish.issuer_url"}, ""},
		{"issuer with a query", "    bucket: b-1\n    issuer_url: https://issuer.example.com/?a=b\n", []string{"keys.publish.issuer_url"}, ""},
		{"endpoint with user info", "    bucket: b-1\n    endpoint: https://key:secret@s3.example.net\n", []string{"keys.publish.endpoint"}, ""},
		{"unknown key", "    bucket: b-1\n    access_key: AKIA\n", []string{"access_key"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(withPublish(tt.yaml)), env)
			if len(tt.problems) == 0 {
				if err != nil {
					t.Fatalf("unexpected problems: %v", err)
				}
				if f.IssuerBase() != tt.issuer {
					t.Errorf("issuer base %q, want %q", f.IssuerBase(), tt.issuer)
				}
				if f.Keys.Publish.CacheMaxAge.D() < time.Second {
					t.Errorf("cache_max_age %s after defaults", f.Keys.Publish.CacheMaxAge.D())
				}
				return
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			for _, want := range tt.problems {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("problems %v lack %s", ps, want)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("a problem repeats the endpoint's password: %v", err)
			}
		})
	}
}

func TestIssuerURLsFollowThePublishedIssuer(t *testing.T) {
	env := envOf(map[string]string{"MASTER": "k", "SECRET": "s"})
	f, err := Parse([]byte(withPublish("    bucket: b-1\n    issuer_url: https://issuer.example.com/x\n")), env)
	if err != nil {
		t.Fatal(err)
	}
	own := Pool{Name: "isolated", OwnIssuer: true}
	shared := Pool{Name: "team"}
	got := []string{f.IssuerURL(&shared), f.IssuerURL(&own)}
	if want := []string{"https://issuer.example.com/x", "https://issuer.example.com/x/pools/isolated"}; !slices.Equal(got, want) {
		t.Errorf("issuer URLs %v, want %v", got, want)
	}
	if f.Server.PublicURL != "https://fedgate.example.com" {
		t.Errorf("public_url changed to %s; redirects must stay on the gateway", f.Server.PublicURL)
	}
}
