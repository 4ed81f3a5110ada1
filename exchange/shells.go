package exchange

import "strings"

// Credentials written for the shells people paste them into. Each writer
// quotes values so that nothing in them is expanded, and drops control
// characters so that no value can end its line.

// FishLines renders credentials as fish `set -gx` statements.
func FishLines(c *Credentials) string {
	return envLines(c, func(name, value string) string {
		q := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(noControl(value))
		return "set -gx " + name + " '" + q + "'"
	})
}

// PowerShellLines renders credentials as PowerShell `$Env:` assignments.
func PowerShellLines(c *Credentials) string {
	return envLines(c, func(name, value string) string {
		return "$Env:" + name + " = '" + strings.ReplaceAll(noControl(value), "'", "''") + "'"
	})
}

// CmdLines renders credentials as Windows Command Prompt `set` statements.
// The quotes around name=value keep & | < > literal; a double quote or a
// percent sign (which cmd cannot escape on its command line) is dropped,
// and never occurs in credentials STS issues.
func CmdLines(c *Credentials) string {
	return envLines(c, func(name, value string) string {
		v := strings.Map(func(r rune) rune {
			if r == '"' || r == '%' {
				return -1
			}
			return r
		}, noControl(value))
		return `set "` + name + "=" + v + `"`
	})
}

// envLines writes the credential environment variables, one line each.
func envLines(c *Credentials, line func(name, value string) string) string {
	var b strings.Builder
	add := func(name, value string) { b.WriteString(line(name, value) + "\n") }
	add("AWS_ACCESS_KEY_ID", c.AccessKeyID)
	add("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
	add("AWS_SESSION_TOKEN", c.SessionToken)
	if !c.Expiration.IsZero() {
		add("AWS_CREDENTIAL_EXPIRATION", rfc3339(c.Expiration))
	}
	return b.String()
}

func noControl(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
