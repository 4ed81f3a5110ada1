package exchange

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"fedgate/gateway/wire"
)

// ExportLines renders credentials as POSIX shell export statements. Values
// are single-quoted so nothing in them is expanded by the shell.
func ExportLines(c *Credentials) string {
	var b strings.Builder
	line := func(name, value string) {
		b.WriteString("export " + name + "=" + shellQuote(value) + "\n")
	}
	line("AWS_ACCESS_KEY_ID", c.AccessKeyID)
	line("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
	line("AWS_SESSION_TOKEN", c.SessionToken)
	if !c.Expiration.IsZero() {
		line("AWS_CREDENTIAL_EXPIRATION", rfc3339(c.Expiration))
	}
	return b.String()
}

// shellQuote wraps s in single quotes; an embedded ' becomes '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CredentialsFileBlock renders an ~/.aws/credentials profile section.
// Line breaks and brackets are removed so no value can start a new key or
// section.
func CredentialsFileBlock(c *Credentials, profile string) string {
	var b strings.Builder
	b.WriteString("[" + iniClean(profile, "[]") + "]\n")
	b.WriteString("aws_access_key_id = " + iniClean(c.AccessKeyID, "") + "\n")
	b.WriteString("aws_secret_access_key = " + iniClean(c.SecretAccessKey, "") + "\n")
	b.WriteString("aws_session_token = " + iniClean(c.SessionToken, "") + "\n")
	return b.String()
}

func iniClean(s, extra string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(extra, r) {
			return -1
		}
		return r
	}, s))
}

// ProcessJSON renders credentials for the AWS CLI's credential_process.
func ProcessJSON(c *Credentials) ([]byte, error) {
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return nil, errors.New("exchange: credentials without access key")
	}
	out := wire.ProcessCredentials{
		Version:         1,
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
	}
	if !c.Expiration.IsZero() {
		out.Expiration = rfc3339(c.Expiration)
	}
	return json.Marshal(out)
}

// FromAPI reads credentials as the JSON API and the CLI endpoints answer
// them; it refuses an answer without a key pair or an expiration.
func FromAPI(w wire.Credentials) (*Credentials, error) {
	exp, err := time.Parse(time.RFC3339, w.Expiration)
	if err != nil || w.AccessKeyID == "" || w.SecretAccessKey == "" {
		return nil, errors.New("exchange: credentials without a key or an expiration")
	}
	return &Credentials{
		AccessKeyID:     w.AccessKeyID,
		SecretAccessKey: w.SecretAccessKey,
		SessionToken:    w.SessionToken,
		Expiration:      exp,
		RoleARN:         w.RoleARN,
		AssumedRoleARN:  w.AssumedRoleARN,
	}, nil
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
