package exchange

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/wire"
)

func sampleCredentials() *Credentials {
	return &Credentials{
		AccessKeyID:     "ASIAEXAMPLE",
		SecretAccessKey: "wJalr/K7MDENG+bPxRfi=",
		SessionToken:    "FwoG/ZXIv+YXdz==",
		Expiration:      time.Date(2025, 3, 1, 14, 0, 0, 0, time.FixedZone("CET", 3600)),
		RoleARN:         "arn:aws:iam::123456789012:role/dev",
		AssumedRoleARN:  "arn:aws:sts::123456789012:assumed-role/dev/alice",
		SessionName:     "alice",
	}
}

func TestExportLines(t *testing.T) {
	tests := []struct {
		name  string
		creds func() *Credentials
		want  string
	}{
		{"typical", sampleCredentials, "export AWS_ACCESS_KEY_ID='ASIAEXAMPLE'\n" +
			"export AWS_SECRET_ACCESS_KEY='wJalr/K7MDENG+bPxRfi='\n" +
			"export AWS_SESSION_TOKEN='FwoG/ZXIv+YXdz=='\n" +
			"export AWS_CREDENTIAL_EXPIRATION='2025-03-01T13:00:00Z'\n"},
		{"no expiration", func() *Credentials { c := sampleCredentials(); c.Expiration = time.Time{}; return c },
			"export AWS_ACCESS_KEY_ID='ASIAEXAMPLE'\n" +
				"export AWS_SECRET_ACCESS_KEY='wJalr/K7MDENG+bPxRfi='\n" +
				"export AWS_SESSION_TOKEN='FwoG/ZXIv+YXdz=='\n"},
		{"hostile quote", func() *Credentials { c := sampleCredentials(); c.SessionToken = "a'b"; return c },
			"export AWS_ACCESS_KEY_ID='ASIAEXAMPLE'\n" +
				"export AWS_SECRET_ACCESS_KEY='wJalr/K7MDENG+bPxRfi='\n" +
				"export AWS_SESSION_TOKEN='a'\\''b'\n" +
				"export AWS_CREDENTIAL_EXPIRATION='2025-03-01T13:00:00Z'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExportLines(tt.creds()); got != tt.want {
				t.Fatalf("ExportLines =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestExportLinesSurviveAShell evaluates the output in a real shell, so the
// quoting is checked by the thing it protects against.
func TestExportLinesSurviveAShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH")
	}
	hostile := []string{`$(touch /tmp/x)`, "`id`", `a'b"c\d`, "line\nbreak", `$HOME ; echo pwned`}
	for _, v := range hostile {
		c := sampleCredentials()
		c.SessionToken = v
		out, err := exec.Command(sh, "-c", ExportLines(c)+`printf %s "$AWS_SESSION_TOKEN"`).Output()
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if string(out) != v {
			t.Fatalf("shell read %q, want %q", out, v)
		}
	}
}

func TestCredentialsFileBlock(t *testing.T) {
	tests := []struct {
		name    string
		profile string
		modify  func(*Credentials)
		want    string
	}{
		{"typical", "dev", func(*Credentials) {}, "[dev]\n" +
			"aws_access_key_id = ASIAEXAMPLE\n" +
			"aws_secret_access_key = wJalr/K7MDENG+bPxRfi=\n" +
			"aws_session_token = FwoG/ZXIv+YXdz==\n"},
		{"injection stripped", "dev]\n[evil", func(c *Credentials) { c.SessionToken = "tok\ncredential_process = rm -rf /" }, "[devevil]\n" +
			"aws_access_key_id = ASIAEXAMPLE\n" +
			"aws_secret_access_key = wJalr/K7MDENG+bPxRfi=\n" +
			"aws_session_token = tokcredential_process = rm -rf /\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sampleCredentials()
			tt.modify(c)
			got := CredentialsFileBlock(c, tt.profile)
			if got != tt.want {
				t.Fatalf("CredentialsFileBlock =\n%s\nwant\n%s", got, tt.want)
			}
			if strings.Count(got, "\n") != 4 {
				t.Fatalf("block has %d lines, want 4", strings.Count(got, "\n"))
			}
		})
	}
}

func TestProcessJSON(t *testing.T) {
	tests := []struct {
		name    string
		modify  func(*Credentials)
		want    string
		wantErr bool
	}{
		{"typical", func(*Credentials) {},
			`{"Version":1,"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"wJalr/K7MDENG+bPxRfi=","SessionToken":"FwoG/ZXIv+YXdz==","Expiration":"2025-03-01T13:00:00Z"}`, false},
		{"no expiration", func(c *Credentials) { c.Expiration = time.Time{} },
			`{"Version":1,"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"wJalr/K7MDENG+bPxRfi=","SessionToken":"FwoG/ZXIv+YXdz=="}`, false},
		{"no access key", func(c *Credentials) { c.AccessKeyID = "" }, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sampleCredentials()
			tt.modify(c)
			got, err := ProcessJSON(c)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("ProcessJSON = %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestFromAPI(t *testing.T) {
	in := wire.Credentials{
		AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "wJalr/K7MDENG+bPxRfi=", SessionToken: "FwoG/ZXIv+YXdz==",
		Expiration: "2025-03-01T13:00:00Z", RoleARN: "arn:aws:iam::123456789012:role/dev",
		AssumedRoleARN: "arn:aws:sts::123456789012:assumed-role/dev/alice", IdentityID: "us-east-1:0f8c",
	}
	got, err := FromAPI(in)
	want := sampleCredentials()
	want.SessionName = "" // not on the wire
	if err != nil || !got.Expiration.Equal(want.Expiration) {
		t.Fatalf("FromAPI = %+v, %v\nwant %+v", got, err, want)
	}
	got.Expiration = want.Expiration
	if *got != *want {
		t.Fatalf("FromAPI = %+v, %v\nwant %+v", got, err, want)
	}
	for name, modify := range map[string]func(*wire.Credentials){
		"no access key": func(w *wire.Credentials) { w.AccessKeyID = "" },
		"no secret":     func(w *wire.Credentials) { w.SecretAccessKey = "" },
		"no expiration": func(w *wire.Credentials) { w.Expiration = "" },
		"epoch seconds": func(w *wire.Credentials) { w.Expiration = "1740834000" },
	} {
		w := in
		modify(&w)
		if _, err := FromAPI(w); err == nil {
			t.Errorf("%s: FromAPI accepted %+v", name, w)
		}
	}
}
