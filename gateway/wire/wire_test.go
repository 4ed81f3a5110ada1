package wire

import (
	"encoding/json"
	"testing"
)

// The field names are the contract with clients fedgate does not control
// (the AWS SDKs and CLI, older fedgate clients): a rename must fail here.
func TestJSONNames(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"credentials request", CredentialsRequest{Pool: "p", Provider: "corp", RoleARN: "r", DurationSeconds: 900},
			`{"pool":"p","provider":"corp","role_arn":"r","duration_seconds":900}`},
		{"credentials request, defaults left out", CredentialsRequest{}, `{"pool":""}`},
		{"SAML credentials request", SAMLCredentialsRequest{CredentialsRequest{Pool: "p"}, "PHNhbWw+"},
			`{"pool":"p","saml_response":"PHNhbWw+"}`},
		{"credentials", Credentials{"A", "S", "T", "2025-03-01T13:00:00Z", "r", "ar", "id"},
			`{"access_key_id":"A","secret_access_key":"S","session_token":"T","expiration":"2025-03-01T13:00:00Z",` +
				`"role_arn":"r","assumed_role_arn":"ar","identity_id":"id"}`},
		{"API error", APIError{"role_required", "Pick one.", "req", []string{"r1"}},
			`{"code":"role_required","message":"Pick one.","request_id":"req","roles":["r1"]}`},
		{"API error without roles", APIError{Code: "c"}, `{"code":"c","message":"","request_id":""}`},
		{"CLI token", CLIToken{"fgcli_x", "Bearer", 60, "e", "s", "p", "corp", "u"},
			`{"access_token":"fgcli_x","token_type":"Bearer","expires_in":60,"expires_at":"e","session_id":"s","pool":"p","provider":"corp","user":"u"}`},
		{"OAuth error", OAuthError{"slow_down", "d", "req"}, `{"error":"slow_down","error_description":"d","request_id":"req"}`},
		{"device authorization", DeviceAuthorization{"dc", "ABCD-EFGH", "v", "vc", 600, 5},
			`{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"v","verification_uri_complete":"vc","expires_in":600,"interval":5}`},
		{"pools", CLIPoolList{[]CLIPool{{"i", "n", "d", []string{"corp"}}}, &CLIConsole{"f", "d"}},
			`{"pools":[{"id":"i","name":"n","display_name":"d","providers":["corp"]}],"console":{"federation_url":"f","destination":"d"}}`},
		{"pools without console", CLIPoolList{Pools: []CLIPool{}}, `{"pools":[]}`},
		{"roles", CLIRoleList{[]CLIRole{{"pi", "pn", "pd", "us-east-1", "r", "rn", "rule"}}},
			`{"roles":[{"pool_id":"pi","pool_name":"pn","pool_display_name":"pd","region":"us-east-1","role_arn":"r","role_name":"rn","rule":"rule"}]}`},
		{"sessions", CLISessionList{[]CLISession{{"i", "p", "corp", "device", "c", "t1", "t2", "t3", true}}},
			`{"sessions":[{"id":"i","pool_id":"p","provider":"corp","method":"device","client":"c","created_at":"t1","expires_at":"t2","last_used_at":"t3","current":true}]}`},
		{"credential_process", ProcessCredentials{1, "A", "S", "T", "2025-03-01T13:00:00Z"},
			`{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","SessionToken":"T","Expiration":"2025-03-01T13:00:00Z"}`},
		{"credential_process without expiration", ProcessCredentials{Version: 1}, `{"Version":1,"AccessKeyId":"","SecretAccessKey":"","SessionToken":""}`},
		{"federation session", FederationSession{"A", "S", "T"}, `{"sessionId":"A","sessionKey":"S","sessionToken":"T"}`},
		{"federation sign-in token", FederationSigninToken{"x"}, `{"SigninToken":"x"}`},
		{"GetId", GetIDInput{"1", "us-east-1:p", map[string]string{"k": "v"}}, `{"AccountId":"1","IdentityPoolId":"us-east-1:p","Logins":{"k":"v"}}`},
		{"GetId answer", GetIDOutput{"us-east-1:i"}, `{"IdentityId":"us-east-1:i"}`},
		{"GetCredentialsForIdentity", GetCredentialsForIdentityInput{"i", nil, "r"}, `{"IdentityId":"i","Logins":null,"CustomRoleArn":"r"}`},
		{"GetCredentialsForIdentity answer", GetCredentialsForIdentityOutput{"i", CognitoCredentials{"A", "S", "T", 1740834000}},
			`{"IdentityId":"i","Credentials":{"AccessKeyId":"A","SecretKey":"S","SessionToken":"T","Expiration":1740834000}}`},
		{"GetOpenIdToken", GetOpenIDTokenInput{"i", map[string]string{}}, `{"IdentityId":"i","Logins":{}}`},
		{"GetOpenIdToken answer", GetOpenIDTokenOutput{"i", "jwt"}, `{"IdentityId":"i","Token":"jwt"}`},
		{"Cognito error", CognitoError{"NotAuthorizedException", "m"}, `{"__type":"NotAuthorizedException","message":"m"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}
