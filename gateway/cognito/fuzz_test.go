package cognito

import (
	"slices"
	"testing"

	"fedgate/gateway/core"
)

// FuzzCognitoParse feeds arbitrary bodies to the request parsers:
// they must not panic, must refuse with a type of the service model (or
// the protocol's SerializationException), and what they accept must meet
// the model's constraints.
func FuzzCognitoParse(f *testing.F) {
	for _, seed := range []string{
		`{"IdentityPoolId":"us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11"}`,
		`{"IdentityPoolId":"us-east-1:0f8c","Logins":{"idp.example.com":"eyJ.x.y"},"AccountId":"123456789012"}`,
		`{"IdentityId":"us-east-1:0f8c","Logins":{"a":"b"},"CustomRoleArn":"arn:aws:iam::123456789012:role/r"}`,
		`{"IdentityId":"us-east-1:0f8c","Logins":{"":"b"}}`,
		`{"IdentityId":"x:y"}`, `{"IdentityId":null}`, `{"Logins":{"a":1}}`, `[]`, `{}{}`, ``, `{"IdentityId":"a:b"} x`,
		`{"IdentityPoolId":"us-east-1:0f8c","Logins":{"login.example.app":"u"},"PrincipalTags":{"k":"v"},"TokenDuration":600}`,
		`{"IdentityPoolId":"us-east-1:0f8c","Logins":{"d":"u"},"TokenDuration":-1}`,
		`{"IdentityId":"us-east-1:0f8c","Logins":{"1":"x","2":"x","3":"x","4":"x","5":"x","6":"x","7":"x","8":"x","9":"x","10":"x","11":"x"}}`,
	} {
		f.Add([]byte(seed))
	}
	known := []string{ErrInvalidParameter, ErrSerialization}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(op string, e *core.Error, ids []string, logins map[string]string) {
			if e != nil {
				if !slices.Contains(known, e.Code) || e.Status != 400 || e.Message == "" {
					t.Fatalf("%s: refusal %q status %d %q", op, e.Code, e.Status, e.Message)
				}
				return
			}
			for _, id := range ids {
				if len(id) > maxIDLen || !idPattern.MatchString(id) {
					t.Fatalf("%s accepted id %q", op, id)
				}
			}
			if len(logins) > maxLogins {
				t.Fatalf("%s accepted %d logins", op, len(logins))
			}
			for k, v := range logins {
				if k == "" || v == "" {
					t.Fatalf("%s accepted an empty login", op)
				}
			}
		}
		a, e := parseGetID(body)
		check("GetId", e, []string{a.IdentityPoolID}, a.Logins)
		b, e := parseGetCredentials(body)
		check("GetCredentialsForIdentity", e, []string{b.IdentityID}, b.Logins)
		if e == nil && b.CustomRoleArn != "" && (len(b.CustomRoleArn) < minARNLen || len(b.CustomRoleArn) > maxARNLen) {
			t.Fatalf("accepted CustomRoleArn of %d bytes", len(b.CustomRoleArn))
		}
		c, e := parseGetOpenIDToken(body)
		check("GetOpenIdToken", e, []string{c.IdentityID}, c.Logins)
		d, ttl, e := parseDeveloperToken(body)
		var devIDs []string
		if d.IdentityID != "" {
			devIDs = []string{d.IdentityID}
		}
		check("GetOpenIdTokenForDeveloperIdentity", e, devIDs, d.Logins)
		if e == nil && (len(d.Logins) == 0 || ttl < 0 || ttl > core.DeveloperTokenTTL || len(d.PrincipalTags) > maxPrincipalTags) {
			t.Fatalf("GetOpenIdTokenForDeveloperIdentity accepted %d logins, TokenDuration %v, %d tags", len(d.Logins), ttl, len(d.PrincipalTags))
		}
		for k := range a.Logins {
			_ = issuerLoginKey("https://" + k)
		}
		_ = core.UnverifiedIssuer(string(body))
	})
}
