package exchange

import (
	"testing"
	"time"
)

func TestShellLines(t *testing.T) {
	c := &Credentials{AccessKeyID: "ASIAKEY", SecretAccessKey: "se'cr\\et/+=", SessionToken: "tok\nen%\"&|", Expiration: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	for _, tt := range []struct {
		name string
		got  string
		want string
	}{
		{"fish", FishLines(c), "set -gx AWS_ACCESS_KEY_ID 'ASIAKEY'\nset -gx AWS_SECRET_ACCESS_KEY 'se\\'cr\\\\et/+='\nset -gx AWS_SESSION_TOKEN 'token%\"&|'\nset -gx AWS_CREDENTIAL_EXPIRATION '2030-01-02T03:04:05Z'\n"},
		{"powershell", PowerShellLines(c), "$Env:AWS_ACCESS_KEY_ID = 'ASIAKEY'\n$Env:AWS_SECRET_ACCESS_KEY = 'se''cr\\et/+='\n$Env:AWS_SESSION_TOKEN = 'token%\"&|'\n$Env:AWS_CREDENTIAL_EXPIRATION = '2030-01-02T03:04:05Z'\n"},
		{"cmd", CmdLines(c), "set \"AWS_ACCESS_KEY_ID=ASIAKEY\"\nset \"AWS_SECRET_ACCESS_KEY=se'cr\\et/+=\"\nset \"AWS_SESSION_TOKEN=token&|\"\nset \"AWS_CREDENTIAL_EXPIRATION=2030-01-02T03:04:05Z\"\n"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, tt.got, tt.want)
		}
	}
}
