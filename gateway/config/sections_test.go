package config

// The small sections: cli and console, cognito, store.

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCLIAndConsoleSettings(t *testing.T) {
	env := envOf(map[string]string{"MASTER": "k", "SECRET": "s"})
	f, err := Parse([]byte(validConfig), env)
	if err != nil {
		t.Fatal(err)
	}
	if f.CLI.SessionTTL.D() != 12*time.Hour || f.CLI.DeviceCodeTTL.D() != 10*time.Minute || f.CLI.DevicePollInterval.D() != 5*time.Second ||
		f.Console.FederationURL != "https://signin.aws.amazon.com/federation" || f.Console.Destination != "https://console.aws.amazon.com/" {
		t.Errorf("defaults: %+v %+v", f.CLI, f.Console)
	}
	tests := []struct {
		name, yaml string
		problems   []string // paths reported, all at once
	}{
		{"valid", "cli: {session_ttl: 8h, device_code_ttl: 20s, device_poll_interval: 1s}\nconsole: {federation_url: 'http://127.0.0.1:9/federation'}\n", nil},
		{"bounds", "cli: {session_ttl: 1m, device_code_ttl: 2h, device_poll_interval: 0.5s}\n",
			[]string{"cli.session_ttl", "cli.device_code_ttl", "cli.device_poll_interval"}},
		{"poll slower than the code lives", "cli: {device_code_ttl: 10s, device_poll_interval: 10s}\n", []string{"cli.device_poll_interval"}},
		{"federation over plain http elsewhere", "console: {federation_url: 'http://signin.example.com/federation'}\n", []string{"console.federation_url"}},
		{"federation with a query", "console: {federation_url: 'https://signin.aws.amazon.com/federation?x=1'}\n", []string{"console.federation_url"}},
		{"destination not https", "console: {destination: 'javascript:alert(1)'}\n", []string{"console.destination"}},
		{"unknown key", "cli: {session_tl: 1h}\n", []string{"session_tl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(validConfig+tt.yaml), env)
			if len(tt.problems) == 0 {
				if err != nil {
					t.Fatalf("unexpected problems: %v", err)
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
		})
	}
}

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

func TestStoreSection(t *testing.T) {
	const password = "pg-pass-7f3c9a"
	tests := []struct {
		name       string
		yaml       string
		env        map[string]string
		wantDriver string
		wantDSN    string
		problem    string // a problem path expected, "" for none
	}{
		{name: "default is sqlite", wantDriver: "sqlite"},
		{name: "postgres from the file", yaml: "store: {driver: postgres, dsn: 'postgres://fedgate@db:5432/fedgate'}",
			wantDriver: "postgres", wantDSN: "postgres://fedgate@db:5432/fedgate"},
		{name: "FEDGATE_STORE_DSN selects postgres", env: map[string]string{"FEDGATE_STORE_DSN": "host=db user=fedgate"},
			wantDriver: "postgres", wantDSN: "host=db user=fedgate"},
		{name: "FEDGATE_STORE_DSN overrides the file", yaml: "store: {driver: postgres, dsn: 'host=old'}",
			env: map[string]string{"FEDGATE_STORE_DSN": "host=new"}, wantDriver: "postgres", wantDSN: "host=new"},
		{name: "postgres without dsn", yaml: "store: {driver: postgres}", problem: "store.dsn"},
		{name: "unparseable dsn", yaml: "store: {driver: postgres, dsn: 'postgres://u:" + password + "@db:99999999/x'}", problem: "store.dsn"},
		{name: "dsn with explicit sqlite", yaml: "store: {driver: sqlite}", env: map[string]string{"FEDGATE_STORE_DSN": "host=db"}, problem: "store.dsn"},
		{name: "unknown driver", yaml: "store: {driver: mysql}", problem: "store.driver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"MASTER": "k", "SECRET": "s"}
			for k, v := range tt.env {
				env[k] = v
			}
			f, err := Parse([]byte(validConfig+tt.yaml+"\n"), envOf(env))
			if tt.problem != "" {
				var ps Problems
				if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Path != tt.problem {
					t.Fatalf("err = %v, want one problem at %s", err, tt.problem)
				}
				if strings.Contains(err.Error(), password) {
					t.Errorf("problem repeats the DSN's password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Store.Driver != tt.wantDriver || f.Store.DSN != tt.wantDSN {
				t.Errorf("store = %+v, want driver %q dsn %q", f.Store, tt.wantDriver, tt.wantDSN)
			}
		})
	}
}
