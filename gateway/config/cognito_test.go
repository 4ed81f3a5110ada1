package config

import (
	"strings"
	"testing"
)

func TestCognitoSection(t *testing.T) {
	env := envOf(map[string]string{"MASTER": "k", "SECRET": "s"})
	f, err := Parse([]byte(validConfig), env)
	if err != nil {
		t.Fatal(err)
	}
	c := f.Cognito
	if c.Path != "" || c.RatePerAddress != DefaultCognitoRatePerAddress || c.BurstPerAddress != DefaultCognitoBurstPerAddress ||
		c.RatePerIdentity != DefaultCognitoRatePerIdentity || c.BurstPerIdentity != DefaultCognitoBurstPerIdentity {
		t.Errorf("defaults: %+v", c)
	}
	tests := []struct {
		name, yaml, wantPath string
	}{
		{"good", "cognito: {path: /cognito, rate_per_address: 0.5, burst_per_address: 3, rate_per_identity: 1, burst_per_identity: 2}", ""},
		{"nested path", "cognito: {path: /aws/cognito-identity}", ""},
		{"relative path", "cognito: {path: cognito}", "cognito.path"},
		{"root path", "cognito: {path: /}", "cognito.path"},
		{"query in path", "cognito: {path: '/c?x=1'}", "cognito.path"},
		{"shadows the API", "cognito: {path: /api/v1/cognito}", "cognito.path"},
		{"shadows discovery", "cognito: {path: /.well-known}", "cognito.path"},
		{"negative rate", "cognito: {rate_per_address: -1}", "cognito.rate_per_address"},
		{"negative identity rate", "cognito: {rate_per_identity: -2}", "cognito.rate_per_identity"},
		{"negative burst", "cognito: {burst_per_identity: -1}", "cognito.burst_per_identity"},
		{"huge burst", "cognito: {burst_per_address: 2000000}", "cognito.burst_per_address"},
		{"unknown key", "cognito: {rate: 1}", "field rate not found"},
		{"classic flow on a pool", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := validConfig + tt.yaml + "\n"
			if tt.name == "classic flow on a pool" {
				doc = strings.Replace(validConfig, "    providers: [corp]\n", "    providers: [corp]\n    allow_classic_flow: true\n", 1)
			}
			f, err := Parse([]byte(doc), env)
			if tt.wantPath == "" {
				if err != nil {
					t.Fatalf("unexpected problems: %v", err)
				}
				if tt.name == "classic flow on a pool" && !f.Pools[0].AllowClassicFlow {
					t.Error("allow_classic_flow not read")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantPath) {
				t.Errorf("err = %v, want a problem at %s", err, tt.wantPath)
			}
		})
	}
}
