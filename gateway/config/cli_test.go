package config

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
